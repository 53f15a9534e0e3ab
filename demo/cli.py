"""``suprata seed-demo``: the demo's command, added to the ``suprata`` group through an entry point."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from demo import seed


@click.command("seed-demo")
@click.option("--reset", is_flag=True, help="Delete the demo businesses and seed them again.")
@click.option("--stripe-test-server", metavar="URL",
              help="Register each business's Stripe webhook at this local Stripe test server.")
@click.option("--twilio-test-server", metavar="URL",
              help="Register each business's number at this local Twilio test server, so texts to it reach "
                   "the app.")
@click.option("--webhook-catcher", metavar="URL",
              help="Point the loyalty plugin's webhook of each business at this address (the demo mailbox's "
                   "/webhooks).")
@with_appcontext
def seed_demo(reset: bool, stripe_test_server: str | None, twilio_test_server: str | None,
              webhook_catcher: str | None) -> None:
    """Seed two demo businesses; an existing demo business is kept as it is unless --reset."""
    report = seed.seed_demo(reset=reset, stripe_test_server=stripe_test_server,
                            webhook_catcher=webhook_catcher, twilio_test_server=twilio_test_server)
    click.echo(report.render())
