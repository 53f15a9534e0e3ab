"""Sample: a well-behaved third-party plugin used by the plugin host's tests.

It has a page, a portal tab, a console menu item, a setting and a command, and notes every hook call in
``calls`` as ``(hook name, business id)`` so a test can tell whether the host called it.
"""

import click
from flask import url_for

from core import plugin_api
from core.plugin_api import MenuItem, PortalTab, Setting, hookimpl, public_blueprint

calls: list[tuple[str, int | None]] = []

bp = public_blueprint("sample", __name__, url_prefix="/sample")


@bp.get("/")
def greeting():
    settings = plugin_api.settings_of(__name__)
    return f"{settings['greeting']} from {plugin_api.current_business().name}"


def _called(hook_name: str) -> None:
    calls.append((hook_name, plugin_api.current_business_id()))


@hookimpl
def register_blueprints(app):
    app.register_blueprint(bp)


@hookimpl
def register_cli(cli):
    @cli.command("sample-greet")
    def greet():
        click.echo("Hello from the sample plugin")


@hookimpl
def plugin_settings():
    return [Setting(name="greeting", label="Greeting", default="Hello")]


@hookimpl
def render_plugin_settings(plugin_name):
    return f"<p>Settings of {plugin_name}, shown by the plugin itself.</p>"


@hookimpl
def render_portal_tab(customer, request):
    _called("render_portal_tab")
    return PortalTab(id="sample", title="Sample", url=url_for("sample.greeting"))


@hookimpl
def render_console_menu(staff_user):
    _called("render_console_menu")
    return MenuItem(title="Sample", url=url_for("sample.greeting"))


@hookimpl
def render_site_links(customer):
    _called("render_site_links")
    return MenuItem(title="Sample page", url=url_for("sample.greeting"))


@hookimpl
def on_invoice_sent(invoice):
    _called("on_invoice_sent")
