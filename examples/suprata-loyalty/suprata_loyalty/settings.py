"""The settings a business can change on the console's plugins page."""

from urllib.parse import urlsplit

from core.plugin_api import Setting, settings_of


def _at_least_one(value: int) -> None:
    if value < 1:
        raise ValueError("Enter 1 or more.")


def _web_address(value: str) -> None:
    address = urlsplit(value)
    if address.scheme not in ("http", "https") or not address.netloc:
        raise ValueError("Enter an address starting with https:// (or http://).")


SETTINGS = [
    Setting(
        name="points_per_unit",
        label="Points per dollar",
        kind="int",
        default=1,
        help="Points a customer earns for each whole unit of the invoice currency they pay.",
        validate=_at_least_one,
    ),
    Setting(
        name="webhook_url",
        label="Webhook address",
        help="Optional. Each time a customer earns points, we POST the details there as JSON.",
        validate=_web_address,
    ),
    Setting(
        name="webhook_secret",
        label="Webhook signing secret",
        kind="secret",
        help="Optional. Signs each POST: header X-Loyalty-Signature is sha256=HMAC-SHA256(secret, body).",
    ),
]


def points_per_unit() -> int:
    """The current business's rate."""
    return settings_of(__name__)["points_per_unit"]


def webhook() -> tuple[str, str]:
    """The current business's webhook address and signing secret ("" when not set)."""
    values = settings_of(__name__)
    return values["webhook_url"] or "", values["webhook_secret"] or ""
