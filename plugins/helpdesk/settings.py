"""What each business decides about its help site, on the console's plugins page."""

from __future__ import annotations

from core.plugin_api import Setting, settings_of

MAX_UNVERIFIED_DAYS = 60


def _days(value: int) -> None:
    if not 1 <= value <= MAX_UNVERIFIED_DAYS:
        raise ValueError(f"Enter a number of days from 1 to {MAX_UNVERIFIED_DAYS}.")


SETTINGS = [
    Setting(
        name="verify_public_tickets",
        label="Public tickets wait until their email address is confirmed",
        kind="bool",
        default=True,
        help="A ticket sent from the public form reaches the queue only once the sender clicks the link we "
             "email them. Keeps bots, junk and mistyped addresses out of your queue.",
    ),
    Setting(
        name="unverified_days",
        label="Days an unconfirmed ticket waits before it is deleted",
        kind="int",
        default=7,
        help="The confirmation link works this long; then the ticket and its files are deleted.",
        validate=_days,
    ),
]


def verifies_public_tickets() -> bool:
    return bool(settings_of(__name__)["verify_public_tickets"])


def unverified_days() -> int:
    return int(settings_of(__name__)["unverified_days"])


def verification_warning() -> str | None:
    """What the business lets in while public tickets skip the email check, in words; None while on."""
    if verifies_public_tickets():
        return None
    return ("Public tickets are not checked: anything sent from the public form goes straight into this "
            "queue. That lets in bots and junk, and tickets from mistyped or made-up addresses that replies "
            "never reach; anyone can write in another person's name. Such tickets are kept off customers' "
            "records. Turn “Public tickets wait until their email address is confirmed” back on in "
            "Plugins to keep them out.")
