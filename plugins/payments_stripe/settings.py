"""The Stripe settings a business enters on the plugins page, and the client they configure.

Keys are per business (each business has its own Stripe account). The installation may point the SDK at
another API address for test mode, for the offline demo and the test suite: ``SUPRATA_STRIPE_API_BASE``
in the app config or the environment (never a business setting, so a business cannot send its key, or
make our server connect, anywhere it likes). Live mode always talks to Stripe itself.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

import stripe
from flask import current_app

from core.plugin_api import Setting, settings_of

API_BASE_SETTING = "SUPRATA_STRIPE_API_BASE"
# With our own idempotency key on every request that moves money, retries cannot charge twice.
NETWORK_RETRIES = 2


def _key_check(prefix: str, what: str):
    def validate(value: str) -> None:
        if not value.startswith((f"sk_{prefix}_", f"rk_{prefix}_")):
            raise ValueError(f"A {what} secret key starts with sk_{prefix}_ (rk_{prefix}_ when restricted).")

    return validate


def _webhook_secret_check(value: str) -> None:
    if not value.startswith("whsec_"):
        raise ValueError("A webhook signing secret starts with whsec_.")


SETTINGS = [
    Setting("mode", "Mode", kind="choice", default="test", choices=(("test", "Test"), ("live", "Live")),
            help="Test mode takes no real money. Switch to live after a test payment went through."),
    Setting("test_secret_key", "Test secret key", kind="secret", help="sk_test_… from Stripe's dashboard.",
            validate=_key_check("test", "test")),
    Setting("live_secret_key", "Live secret key", kind="secret", help="sk_live_… from Stripe's dashboard.",
            validate=_key_check("live", "live")),
    Setting("webhook_secret", "Webhook signing secret", kind="secret",
            help="whsec_… of the webhook endpoint you added in Stripe for this mode (address shown below).",
            validate=_webhook_secret_check),
]


@dataclass(frozen=True)
class StripeConfig:
    """The current business's Stripe settings, ready to use."""

    mode: str
    secret_key: str | None
    webhook_secret: str | None
    api_base: str | None

    @property
    def livemode(self) -> bool:
        return self.mode == "live"


def current_config() -> StripeConfig:
    values = settings_of(__name__)
    live = values.get("mode") == "live"
    api_base = None if live else current_app.config.get(API_BASE_SETTING) or os.environ.get(API_BASE_SETTING)
    return StripeConfig(
        mode="live" if live else "test",
        secret_key=values.get("live_secret_key" if live else "test_secret_key") or None,
        webhook_secret=values.get("webhook_secret") or None,
        api_base=api_base or None,
    )


def settings_problems(values: dict) -> dict[str, str]:
    """Live mode takes real money, so it is saved only with what it needs: a live key that Stripe accepts
    and a webhook signing secret (without webhooks no payment would ever be marked paid)."""
    if values.get("mode") != "live":
        return {}
    key = values.get("live_secret_key")
    if not key:
        return {"live_secret_key": "Live mode needs your live secret key (sk_live_… from Stripe's dashboard, "
                                   "Developers > API keys). Until you have it, keep the mode on Test."}
    problems = {}
    if not values.get("webhook_secret"):
        problems["webhook_secret"] = MISSING_WEBHOOK_SIGNATURE_KEY
    failure = connection_problem(StripeConfig("live", key, values.get("webhook_secret"), None))
    if failure:
        problems["live_secret_key"] = (f"Stripe did not accept this live key: {failure} Copy the secret key "
                                       "again from Stripe's dashboard (Developers > API keys); until it "
                                       "works, keep the mode on Test.")
    return problems


MISSING_WEBHOOK_SIGNATURE_KEY = ("Live mode needs the signing secret (whsec_…) of the webhook endpoint you "
                                 "added in Stripe's dashboard; without it no payment is marked paid.")


def connection_problem(config: StripeConfig) -> str | None:
    """Ask Stripe for the account's balance with ``config``'s key: None when it answers, else why not."""
    try:
        client_for(config).v1.balance.retrieve()
    except stripe.StripeError as exc:
        return exc.user_message or str(exc).splitlines()[0]
    return None


def client_for(config: StripeConfig) -> stripe.StripeClient:
    """A Stripe client for the business's current mode and key."""
    return _client(config.secret_key, config.api_base)


@lru_cache(maxsize=64)
def _client(secret_key: str, api_base: str | None) -> stripe.StripeClient:
    # Against a local stand-in (tests, the demo) a failure should show at once, not after retries.
    if api_base:
        return stripe.StripeClient(secret_key, base_addresses={"api": api_base}, max_network_retries=0)
    return stripe.StripeClient(secret_key, max_network_retries=NETWORK_RETRIES)
