"""Help site: knowledge base and tickets, signed in with the portal's login through single sign-on."""

from flask import request

from core.plugin_api import MenuItem, hookimpl, public_url
from plugins.helpdesk import sso

TITLE = "Help desk"
API_VERSION = "2.5"


@hookimpl
def register_blueprints(app):
    from plugins.helpdesk.sso_views import bp

    app.register_blueprint(bp)


@hookimpl
def plugin_settings():
    return sso.SETTINGS


@hookimpl
def render_site_links(customer):
    if request.blueprint == "helpdesk_sso" or (request.blueprint or "").startswith("helpdesk"):
        if sso.signed_in_customer() is not None:
            return MenuItem(title="View my invoices", url=public_url("account.login"), order=20)
        return None
    if customer is not None:
        return MenuItem(title="Get Help", url=sso.site_url("helpdesk_sso.start", next="/help/", silent="1"),
                        order=30)
    return None
