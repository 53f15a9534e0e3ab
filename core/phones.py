"""Phone numbers as customers and staff type them, turned into E.164 (``+12125550142``) or refused.

Parsing and validation are Google's libphonenumber rules (the ``phonenumbers`` package), so "(212) 555-0142"
typed for a New York business and "+44 20 7946 0958" typed anywhere both come out right, and a number that
cannot exist is refused with a sentence the person who typed it understands.
"""

from __future__ import annotations

import phonenumbers

from core.tenancy.state import current_business


class PhoneNumberError(ValueError):
    """The text is not a valid phone number; the message says why, for the person who typed it."""


def home_region() -> str | None:
    """The country a number without a ``+`` is read in: the current business's (from its locale)."""
    business = current_business()
    locale = business.locale if business else ""
    _, _, country = locale.partition("_")
    return country.upper() or None


def normalise_phone(text: str, region: str | None = None) -> str:
    """``text`` as an E.164 number; :class:`PhoneNumberError` when it is not a valid phone number.

    A number written without a country code is read as one of ``region`` (by default the current
    business's country).
    """
    text = (text or "").strip()
    if not text:
        raise PhoneNumberError("Enter a phone number.")
    region = region or home_region()
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise PhoneNumberError(_unreadable(region)) from None
    if not phonenumbers.is_valid_number(number):
        raise PhoneNumberError(f"{text} is not a valid phone number: check the digits"
                               + ("" if text.startswith("+") else " and the country code") + ".")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _unreadable(region: str | None) -> str:
    example = phonenumbers.example_number(region) if region else None
    if example is None:
        return "Enter the number with its country code, like +1 212 555 0142."
    local = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)
    return f"Enter a phone number like {local}, or with its country code."

