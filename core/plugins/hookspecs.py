"""Every hook a Suprata plugin can implement. This module is the catalogue; each docstring is the contract.

Families: ``on_<event>`` hooks are notifications (return value ignored); ``<things>()`` and ``register_<x>``
hooks contribute objects at start-up or on demand; ``render_<slot>`` hooks contribute to a named place in a
template. Hooks grow and never shrink: an implementation may accept any subset of the arguments.

Every call goes through :class:`core.plugins.host.PluginHost`: implementations of plugins the current
business switched off are skipped, and an implementation that raises is logged with its plugin's name,
recorded for staff, and skipped, so the page or job that called it still succeeds.
"""

import pluggy

hookspec = pluggy.HookspecMarker("suprata")


@hookspec
def on_payment_captured(payment, invoice):
    """Money for an invoice was confirmed by the payment processor, or recorded by staff as taken outside it
    (cash, cheque, bank transfer: ``payment.processor == "offline"``, how in ``payment.method``).

    Called once per payment, from the verified webhook (or server-side re-fetch) that confirmed it, or the
    staff action that recorded it, after the invoice's new status and the payment are committed. Never
    called from a browser redirect.

    :param core.models.Payment payment: the captured payment (``status == "succeeded"``).
    :param core.models.Invoice invoice: the invoice it paid, already updated.
    :return: ignored. Not ``firstresult``.
    """


@hookspec
def on_payment_failed(payment, invoice, reason):
    """A charge for an invoice, manual or autopay, definitively failed.

    Called after the failed payment is committed; the invoice stays open. An automatic charge
    (``payment.source == "autopay"``) has already been followed up by core: the customer was emailed (and
    texted, through any ``"sms"`` channel the business has on, at a verified number) links to pay now and to
    update their card, the billing inbox was told, and a retry is planned unless the decline was final.

    :param core.models.Payment payment: the failed payment (``status == "failed"``).
    :param core.models.Invoice invoice: the invoice that is still unpaid.
    :param str reason: a short, customer-safe reason such as ``"insufficient_funds"``.
    :return: ignored. Not ``firstresult``.
    """


@hookspec
def on_ticket_submitted(ticket):
    """A support ticket entered the staff queue.

    Called after commit; for public-form tickets only once the submitter confirmed their email.

    :param ticket: the helpdesk plugin's ticket record.
    :return: ignored. Not ``firstresult``.
    """


@hookspec
def on_ticket_replied(ticket, message):
    """Staff or the customer added a visible reply to a ticket (internal notes do not count).

    Called after commit.

    :param ticket: the helpdesk plugin's ticket record.
    :param message: the new message record.
    :return: ignored. Not ``firstresult``.
    """


@hookspec
def on_invoice_sent(invoice):
    """An invoice was issued to its customer (moved from draft to open and emailed).

    Called after commit.

    :param core.models.Invoice invoice: the issued invoice.
    :return: ignored. Not ``firstresult``.
    """


@hookspec
def on_invoice_viewed(invoice, when):
    """A customer opened an invoice's pay link for the first time.

    Called after the view is committed; later views are recorded but do not call this hook.

    :param core.models.Invoice invoice: the viewed invoice.
    :param datetime.datetime when: the moment of the view, in UTC.
    :return: ignored. Not ``firstresult``.
    """


@hookspec
def render_portal_tab(customer, request):
    """The customer portal builds its navigation.

    Called on every portal page, for the logged-in customer whose email is confirmed. Appears in the
    portal's tab bar (``portal/base.html``), ordered by ``order`` then ``title``.

    :param core.models.Customer customer: the logged-in customer.
    :param flask.Request request: the current request.
    :return: a :class:`core.plugin_api.PortalTab`, a list of them, or ``None``. Not ``firstresult``.
    """


@hookspec
def payment_processors():
    """Core looks for payment processors.

    Called whenever core needs one: to show Pay Now, to charge a saved card, to route a webhook.

    :return: a :class:`core.plugin_api.PaymentProcessor` instance, a list of them, or ``None``.
        Not ``firstresult``.
    """


@hookspec
def notification_channels():
    """Core looks for delivery channels.

    Called by the outbox worker each time it delivers a message, inside the message's business.

    :return: a :class:`core.plugin_api.Channel` instance, a list of them, or ``None``. Not ``firstresult``.
    """


@hookspec
def register_blueprints(app):
    """App start-up: the plugin adds its routes.

    Called once per app, for every loaded plugin whatever any business's switch says: a plugin's routes
    answer 404 for a business that turned it off. Make them with :func:`core.plugin_api.customer_blueprint`,
    :func:`~core.plugin_api.staff_blueprint` or :func:`~core.plugin_api.public_blueprint`, so core knows which
    login realm owns them (staff and customer blueprints require that login on every route).

    :param flask.Flask app: the application.
    :return: ignored. Not ``firstresult``.
    """


@hookspec
def register_cli(cli):
    """App start-up: the plugin adds ``flask`` sub-commands.

    Called once per app, for every loaded plugin whatever any business's switch says.

    :param click.Group cli: the application's command group.
    :return: ignored. Not ``firstresult``.
    """


@hookspec
def plugin_settings():
    """The plugins page shows a plugin's settings form, or core validates saved settings.

    Called on the plugin's own module or object (not through the business's switch), whenever core reads,
    shows or saves that plugin's settings.

    :return: a list of :class:`core.plugin_api.Setting` declaring the plugin's settings, their defaults and
        validation. Not ``firstresult``; each plugin answers for itself.
    """


@hookspec
def plugin_settings_problems(settings):
    """Core is about to save a plugin's settings, which passed each setting's own check; the plugin says what
    is wrong with them together (live mode without a live key, a key its service refuses).

    Called on the plugin's own implementation only (not through the business's switch), before anything is
    stored; the settings are saved only when it reports nothing.

    :param dict settings: every declared setting's value as it would be saved, secrets in clear.
    :return: a dict of setting name to a message for staff (what is wrong and what to do), or ``None``.
        Not ``firstresult``; each plugin answers for itself.
    """


@hookspec
def render_console_menu(staff_user):
    """The staff console builds its side menu.

    Called on every console page, for the logged-in staff member. Appears in ``console/base.html``, below
    core's own entries, ordered by ``order`` then ``title``. An item whose ``url`` opens a route of this app
    that the member's role may not open (see ``requires_permission``) is left out.

    :param core.models.StaffUser staff_user: the logged-in staff member.
    :return: a :class:`core.plugin_api.MenuItem`, a list of them, or ``None``. Not ``firstresult``.
    """


@hookspec
def register_periodic_tasks(schedule):
    """App and worker start-up: the plugin adds scheduled jobs (autopay runs, reminders).

    Called once per app, for every loaded plugin whatever any business's switch says.

    :param core.plugin_api.Schedule schedule: call ``schedule.every(name, minutes, func)``; ``func`` is run
        once per business that has the plugin switched on, inside that business's context.
    :return: ignored. Not ``firstresult``.
    """


@hookspec
def invitation_handlers():
    """Core looks for a page that turns a customer invitation into a login.

    Called before core offers or sends a "create your account" invitation (after a pay-link payment, or
    from the customer record). The portal plugin answers; core sends invitations only while one does, so an
    invitation never leads nowhere, and uses the first answer.

    :return: the endpoint name of a view that takes a ``token`` argument (e.g.
        ``"portal.accept_invitation_page"``), a list of them, or ``None``. Not ``firstresult``.
    """


@hookspec
def render_site_links(customer):
    """A customer-facing page builds its header links (business home, pay link, portal, help site).

    Called on every customer-facing page that uses the theme's ``base.html``. Appears in its header and on
    the business home page, ordered by ``order`` then ``title``.

    :param customer: the logged-in :class:`core.models.Customer` on customer-realm pages, else ``None``.
    :return: a :class:`core.plugin_api.MenuItem`, a list of them, or ``None``. Not ``firstresult``.
    """


@hookspec
def render_login_links():
    """The customer login page builds the links under its form ("New here? Sign up").

    Called on core's customer login page (``account/login.html``), for visitors who are not signed in.
    Appears under the form, ordered by ``order`` then ``title``.

    :return: a :class:`core.plugin_api.MenuItem`, a list of them, or ``None``. Not ``firstresult``.
    """


@hookspec
def render_customer_record(customer):
    """The console's customer record is shown; the plugin adds a card of its own (a loyalty balance, the
    customer's phones and texts).

    Called on every view of ``console/customers/detail.html``, for the staff member looking at it. Appears
    below the record's contact details, in the order the plugins answer.

    :param core.models.Customer customer: the customer shown, with their emails and phones loaded.
    :return: markup (``markupsafe.Markup``, e.g. from ``render_template``) or ``None``. Not ``firstresult``.
    """


@hookspec
def render_plugin_settings(plugin_name):
    """The console's plugins page shows the plugin's card; the plugin adds its own part under its settings
    (a connection test, the webhook address to paste elsewhere).

    Called on the plugin's own implementation only, while the plugin is on for the business, as the page
    is rendered. Appears in ``console/plugins.html`` under the plugin's settings form.

    :param str plugin_name: the plugin's name, as its entry point gives it.
    :return: markup (``markupsafe.Markup``, e.g. from ``render_template``) or ``None``. Not ``firstresult``.
    """
