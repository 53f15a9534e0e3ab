"""Customer portal: sign-up and invitations, staff approval, and tabs for invoices, jobs, reservations,
agreements and activity."""

from flask import request, url_for

from core.plugin_api import MenuItem, PortalTab, current_business, hookimpl
from plugins.portal import emails, models  # noqa: F401  (templates registered, tables in the metadata)

TITLE = "Customer portal"
API_VERSION = "2.7"


@hookimpl
def register_blueprints(app):
    from plugins.portal import signup, staff, tabs  # noqa: F401  (their routes join the blueprints)
    from plugins.portal.blueprints import console, portal

    app.register_blueprint(portal)
    app.register_blueprint(console)


@hookimpl
def invitation_handlers():
    return "portal.accept_invitation_page"


@hookimpl
def render_portal_tab():
    return [
        PortalTab(id="invoices", title="Invoices", url=url_for("portal.invoices"), order=10),
        PortalTab(id="jobs", title="Jobs", url=url_for("portal.jobs"), order=20),
        PortalTab(id="reservations", title="Reservations", url=url_for("portal.reservations"), order=30),
        PortalTab(id="agreements", title="Agreements", url=url_for("portal.agreements"), order=40),
        PortalTab(id="activity", title="Activity", url=url_for("portal.activity"), order=90),
    ]


@hookimpl
def render_site_links(customer):
    if customer is not None:
        return None
    return MenuItem(title="Log in", url=url_for("account.login"), order=10)


@hookimpl
def render_login_links():
    if not current_business().policy("self_registration"):
        return None
    return MenuItem(title="New here? Sign up with the email address we have on file",
                    url=url_for("portal.signup", next=request.args.get("next")), order=10)


@hookimpl
def render_console_menu():
    return [
        MenuItem(title="Portal sign-ups", url=url_for("portal_console.applications"), order=30),
        MenuItem(title="Appointment requests", url=url_for("portal_console.appointments_page"), order=31),
    ]
