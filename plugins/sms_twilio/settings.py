"""The Twilio settings a business enters on the plugins page, and the client they configure.

Each business has its own Twilio account: its SID and auth token, and the sender of its texts (a Twilio
number, or a messaging service that picks one). In test mode the installation may point the SDK at another
API address, for the offline demo and the test suite: ``SUPRATA_TWILIO_API_BASE`` in the app config or the
environment (never a business setting, so a business cannot send its token, or make our server connect,
anywhere it likes). Live mode always talks to Twilio itself.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from flask import current_app
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from core.plugin_api import PhoneNumberError, Setting, normalise_phone, settings_of

API_BASE_SETTING = "SUPRATA_TWILIO_API_BASE"
TIMEOUT_SECONDS = 15
_ACCOUNT_SID = re.compile(r"^AC[0-9a-f]{32}$")
_SERVICE_SID = re.compile(r"^MG[0-9a-f]{32}$")


def _account_sid_check(value: str) -> None:
    if not _ACCOUNT_SID.match(value):
        raise ValueError("An account SID is AC followed by 32 letters and digits, as Twilio's console shows "
                         "it.")


def _sender_check(value: str) -> None:
    if _SERVICE_SID.match(value):
        return
    try:
        normalise_phone(value)
    except PhoneNumberError as exc:
        raise ValueError(f"Enter your Twilio number with its country code, or a messaging service SID "
                         f"(MG…). {exc}") from None


SETTINGS = [
    Setting("mode", "Mode", kind="choice", default="test", choices=(("test", "Test"), ("live", "Live")),
            help="Test mode uses Twilio's test credentials: nothing reaches a phone. Switch to live after a "
                 "test text went through."),
    Setting("account_sid", "Account SID", help="AC… from Twilio's console.", validate=_account_sid_check),
    Setting("auth_token", "Auth token", kind="secret", help="Also signs the requests Twilio sends us."),
    Setting("sender", "Sender", help="Your Twilio number (+1 212 555 0100) or a messaging service SID (MG…).",
            validate=_sender_check),
]


@dataclass(frozen=True)
class TwilioConfig:
    """The current business's Twilio settings, ready to use."""

    mode: str
    account_sid: str | None
    auth_token: str | None
    sender: str | None
    api_base: str | None

    @property
    def complete(self) -> bool:
        return bool(self.account_sid and self.auth_token and self.sender)

    def sender_fields(self) -> dict:
        """How a message names its sender: a messaging service, or a number."""
        if _SERVICE_SID.match(self.sender or ""):
            return {"messaging_service_sid": self.sender}
        return {"from_": normalise_phone(self.sender)}


def current_config() -> TwilioConfig:
    values = settings_of(__name__)
    live = values.get("mode") == "live"
    api_base = None if live else current_app.config.get(API_BASE_SETTING) or os.environ.get(API_BASE_SETTING)
    return TwilioConfig(mode="live" if live else "test", account_sid=values.get("account_sid") or None,
                        auth_token=values.get("auth_token") or None, sender=values.get("sender") or None,
                        api_base=api_base or None)


def client_for(config: TwilioConfig) -> Client:
    """A Twilio client for the business's account. No retries inside: creating a message is not idempotent,
    so a failed attempt waits in the outbox for its next try instead."""
    client = Client(config.account_sid, config.auth_token,
                    http_client=TwilioHttpClient(timeout=TIMEOUT_SECONDS))
    if config.api_base:
        client.api.base_url = config.api_base.rstrip("/")
    return client
