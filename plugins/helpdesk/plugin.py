"""Help site: a knowledge base staff write in Markdown, with full-text search; tickets from a public form
(confirmed by email first) or from signed-in customers; the staff queue in the console; a Tickets tab in
the portal; and single sign-on with the portal's login, the help site at an address of its own."""

from flask import render_template, url_for

from core.plugin_api import MenuItem, PortalTab, hookimpl, public_url
from plugins.helpdesk import emails, models, search, sso  # noqa: F401  (templates registered, tables and index)
from plugins.helpdesk.settings import SETTINGS, verification_warning
from plugins.helpdesk.tickets import purge_unverified

TITLE = "Help desk"
API_VERSION = "2.11"


@hookimpl
def register_blueprints(app):
    from plugins.helpdesk import portal_tab, staff, views  # noqa: F401  (their routes join the blueprints)
    from plugins.helpdesk.blueprints import console, helpdesk, portal_tickets
    from plugins.helpdesk.sso_views import bp as sign_in

    app.register_blueprint(helpdesk)
    app.register_blueprint(sign_in)
    app.register_blueprint(portal_tickets)
    app.register_blueprint(console)


@hookimpl
def plugin_settings():
    return SETTINGS + sso.SETTINGS


@hookimpl
def render_plugin_settings():
    warning = verification_warning()
    return render_template("helpdesk/console/warning.html", warning=warning) if warning else None


@hookimpl
def register_periodic_tasks(schedule):
    schedule.every("helpdesk-purge-unverified", 60, purge_unverified)


@hookimpl
def render_portal_tab():
    return PortalTab(id="tickets", title="Tickets", url=url_for("helpdesk_portal.tickets_tab"), order=60)


@hookimpl
def render_site_links(customer):
    if sso.is_help_site_page():
        links = [MenuItem(title="Help", url=url_for("helpdesk.home"), order=20)]
        if sso.signed_in_customer() is not None:
            links.append(MenuItem(title="View my invoices", url=public_url("account.login"), order=25))
        return links
    if customer is not None:
        return MenuItem(title="Get Help", order=20,
                        url=sso.site_url("helpdesk_sso.start", next="/help/", silent="1"))
    return MenuItem(title="Help", url=sso.site_url("helpdesk.home"), order=20)


@hookimpl
def render_console_menu():
    return [
        MenuItem(title="Tickets", url=url_for("helpdesk_console.queue"), order=20),
        MenuItem(title="Help articles", url=url_for("helpdesk_console.articles_page"), order=21),
    ]
