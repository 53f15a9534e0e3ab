"""Command line: ``flask --app core suprata <command>``, or the ``suprata`` console script.

Both run the same command group; the console script builds the app from the environment like the web
server does.
"""

from __future__ import annotations

import re
import sys
import zoneinfo
from importlib.metadata import entry_points

import click
import flask_migrate
from flask import current_app
from flask.cli import AppGroup, ScriptInfo
from sqlalchemy import select

from core import doctor, serving
from core.background.queue import run_worker
from core.extensions import db, migrate
from core.identity.passwords import hash_password, password_problem
from core.identity.roles import DEFAULT_ROLE, ROLES
from core.identity.staff import StaffRuleError, add_staff_member
from core.migrations import add_plugin_branches
from core.models import Business, StaffUser
from core.notifications.bounces import record_bounce
from core.tenancy import business_context, businesses
from core.tenancy.hosts import HostError
from core.tenancy.locales import locale_choices
from core.tenancy.state import business_cache
from core.tenancy.urls import business_base_url

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")

suprata = AppGroup("suprata", help="Administer a Suprata installation.")


# Distributions add commands to ``suprata`` through this entry-point group (the demo's ``seed-demo``).
COMMANDS_ENTRY_POINT_GROUP = "suprata.commands"


def _add_installed_commands() -> None:
    for entry_point in entry_points(group=COMMANDS_ENTRY_POINT_GROUP):
        if entry_point.name not in suprata.commands:
            suprata.add_command(entry_point.load(), entry_point.name)


def init_app(app) -> None:
    _add_installed_commands()
    app.cli.add_command(suprata)
    # Every `flask db` command (and `init-db`) must see the migration folders of the installed plugins.
    if add_plugin_branches not in migrate.configure_callbacks:
        migrate.configure(add_plugin_branches)
    _upgrade_every_branch_by_default(app)


def _upgrade_every_branch_by_default(app) -> None:
    """Plain ``flask db upgrade`` brings core and every plugin branch up to date ("heads", not "head",
    which Alembic refuses when plugins add branches of their own)."""
    upgrade = app.cli.commands["db"].commands["upgrade"]
    for param in upgrade.params:
        if param.name == "revision":
            param.default = "heads"


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``suprata`` console script: the app is built from the environment, as the web
    server builds it."""
    _add_installed_commands()
    suprata.main(args=argv, prog_name="suprata", obj=ScriptInfo(app_import_path="core:create_app"))


def business_by_slug(slug: str) -> Business:
    business = db.session.scalar(select(Business).where(Business.slug == slug))
    if business is None:
        raise click.ClickException(f"No business with the slug {slug!r}.")
    return business


@suprata.command("init-db")
def init_db() -> None:
    """Create the database schema or bring it up to date (core and every installed plugin)."""
    flask_migrate.upgrade(revision="heads")
    click.echo("The database is up to date.")


@suprata.command("ingest-bounce")
def ingest_bounce() -> None:
    """Record a bounce: a delivery status report read from stdin, as a mail server pipes it."""
    bounce = record_bounce(sys.stdin.buffer.read())
    if bounce is None:
        click.echo("Not a failure report about one of our messages; nothing recorded.")
    else:
        click.echo(f"Recorded: message {bounce.message_id} to {bounce.recipient} bounced ({bounce.status}).")


@suprata.command("create-business")
@click.argument("slug")
@click.option("--name", required=True, help="Name shown to customers.")
@click.option("--timezone", default="UTC", show_default=True, help="IANA time zone, e.g. America/Chicago.")
@click.option("--currency", default="USD", show_default=True, help="ISO 4217 code.")
@click.option("--locale", help="How money and dates are written, e.g. en_US or fr_CA "
              "[default: from the time zone's country].")
@click.option("--email", help="Contact address shown on customer pages.")
@click.option("--plugin", "plugins", multiple=True, help="Switch this plugin on (repeatable).")
@click.option("--host", "hosts", multiple=True,
              help="A host name customers use for it, e.g. pay.acme.com (repeatable; the first is in links).")
def create_business(
    slug: str, name: str, timezone: str, currency: str, locale: str | None, email: str | None,
    plugins: tuple[str, ...], hosts: tuple[str, ...],
) -> None:
    """Add a business, served on its host names (and at /b/SLUG/ in development)."""
    if not SLUG.match(slug):
        raise click.ClickException("The slug may hold lower-case letters, digits and dashes (at most 64).")
    if timezone not in zoneinfo.available_timezones():
        raise click.ClickException(f"Unknown time zone {timezone!r}.")
    if not re.fullmatch(r"[A-Za-z]{3}", currency):
        raise click.ClickException("The currency is a three-letter ISO code, e.g. USD.")
    if locale is not None and locale not in dict(locale_choices()):
        raise click.ClickException(f"Unknown locale {locale!r}: use a language and a country where it is "
                                   "official, e.g. en_US or fr_CA.")
    loaded = current_app.extensions["suprata"].plugins.plugin_names()
    unknown = sorted(set(plugins) - set(loaded))
    if unknown:
        raise click.ClickException(
            "Not installed: " + ", ".join(unknown) + ". Installed: " + ", ".join(loaded)
        )
    if db.session.scalar(select(Business.id).where(Business.slug == slug)):
        raise click.ClickException(f"A business with the slug {slug!r} exists already.")
    fields = {"locale": locale} if locale else {}
    try:
        business = businesses.create_business(slug, plugins=plugins, hosts=hosts, name=name,
                                              timezone=timezone, currency=currency.upper(), email=email,
                                              **fields)
    except HostError as exc:
        raise click.ClickException(str(exc)) from None
    with business_context(business.id):
        address = business_base_url(business_cache().by_id(business.id))
    click.echo(f"Created {name} ({slug}) at {address}/.")
    click.echo(f"Next: suprata create-staff --business {slug} --email EMAIL --name NAME "
               "(the first staff member is the business's owner).")


@suprata.command("create-staff")
@click.option("--business", "slug", required=True, help="Slug of the business.")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(list(ROLES)), default=None,
              help=f"What they may do; the first staff member is the owner, later ones are {DEFAULT_ROLE} "
                   "unless given another role.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
def create_staff(slug: str, email: str, name: str, role: str | None, password_stdin: bool) -> None:
    """Add a staff login to a business; the password is asked twice unless read from stdin."""
    business = business_by_slug(slug)
    email = email.strip().lower()
    with business_context(business.id):
        if db.session.scalar(select(StaffUser.id).where(StaffUser.email == email)):
            raise click.ClickException(f"{email} is already a staff member of {business.name}.")
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        problem = password_problem(password, user_inputs=(email, name, business.name))
        if problem:
            raise click.ClickException(problem)
        try:
            member = add_staff_member(email=email, name=name, password_hash=hash_password(password),
                                      role=role)
        except StaffRuleError as exc:
            raise click.ClickException(str(exc)) from None
        db.session.commit()
        role_label = ROLES[member.role].label
        click.echo(f"{name} can now log in to {business.name} as {email}, with the role {role_label}.")


@suprata.command("serve", context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("gunicorn_options", nargs=-1, type=click.UNPROCESSED)
def serve(gunicorn_options: tuple[str, ...]) -> None:
    """Serve the web app with gunicorn, several worker processes (SUPRATA_BIND, SUPRATA_WEB_WORKERS).

    Extra options go to gunicorn, e.g. `suprata serve --workers 4`.
    """
    serving.exec_gunicorn(gunicorn_options)


@suprata.command("worker")
@click.option("--threads", type=click.IntRange(1, 64), default=None,
              help="Tasks run at once (default: SUPRATA_WORKER_THREADS, else 2).")
def worker(threads: int | None) -> None:
    """Deliver notifications and run background and scheduled jobs until stopped."""
    app = current_app._get_current_object()
    run_worker(app, threads or app.config["SUPRATA_WORKER_THREADS"])


@suprata.command("doctor")
def doctor_command() -> None:
    """Check configuration, database, migrations, clock, mail, queue and plugins; non-zero exit on errors."""
    findings = doctor.run_checks(current_app._get_current_object())
    for finding in findings:
        click.echo(finding.render())
    errors = sum(1 for f in findings if f.level == doctor.ERROR)
    if errors:
        raise click.ClickException(f"{errors} problem{'s' if errors != 1 else ''} found.")
