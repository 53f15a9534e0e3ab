"""Loyalty points: customers earn points for every paid invoice; a webhook can hear of each one.

Customers see their points on a Rewards tab of the portal, staff see every balance on a console page, and
the business's own systems can be told of each point earned through a webhook, posted in the background.

The hook implementations: what Suprata's plugin host calls. Each accepts only the arguments it uses. The
first line above and ``TITLE`` are what staff read about the plugin on the console's plugins page.
"""

from flask import url_for

from core.plugin_api import MenuItem, PortalTab, hookimpl
from suprata_loyalty import points, settings, views

TITLE = "Loyalty points"
#: The version of the plugin API this plugin was written for; core refuses another major version.
API_VERSION = "2.1"


@hookimpl
def register_blueprints(app):
    app.register_blueprint(views.portal)
    app.register_blueprint(views.console)


@hookimpl
def plugin_settings():
    return settings.SETTINGS


@hookimpl
def on_payment_captured(payment):
    points.award_points(payment)


@hookimpl
def render_portal_tab():
    return PortalTab(id="loyalty", title="Rewards", url=url_for("loyalty.my_points"), order=50)


@hookimpl
def render_console_menu():
    return MenuItem(title="Loyalty points", url=url_for("loyalty_console.customer_balances"), order=60)
