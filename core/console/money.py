"""Amounts typed by staff ("125.50") to integer minor units and back, with Decimal, never floats."""

from __future__ import annotations

import re
from decimal import Decimal

from core.jinja_helpers import ZERO_DECIMAL

# Amount columns are 32-bit integers on PostgreSQL; this keeps every amount and total well inside them.
LARGEST_AMOUNT = 1_000_000_000

_PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def decimal_places(currency: str) -> int:
    """Digits after the decimal point for a currency (0 for JPY, 2 for USD)."""
    return 0 if currency.upper() in ZERO_DECIMAL else 2


def parse_decimal(text: str, *, places: int, allow_negative: bool = False) -> Decimal:
    """A plain decimal number ("1,250.5" or "-3"), or ValueError with a message for the user.

    Exponents, NaN and infinities are refused: ``Decimal`` would accept them, a person never means them.
    """
    cleaned = (text or "").strip().replace(",", "").replace(" ", "")
    if not _PLAIN_NUMBER.fullmatch(cleaned):
        raise ValueError("Enter a number, like 125.50.")
    value = Decimal(cleaned)
    if value < 0 and not allow_negative:
        raise ValueError("Enter a number that is not negative.")
    if -value.as_tuple().exponent > places:
        raise ValueError(f"Use at most {places} decimal places." if places else "Use a whole number.")
    return value


def to_minor_units(text: str, currency: str, *, allow_negative: bool = False) -> int:
    """ "125.50" in USD -> 12550; raises ValueError with a message for the user."""
    value = parse_decimal(text, places=decimal_places(currency), allow_negative=allow_negative)
    minor = int(value.scaleb(decimal_places(currency)))
    if abs(minor) > LARGEST_AMOUNT:
        raise ValueError("That amount is too large.")
    return minor


def to_major_text(minor: int | None, currency: str) -> str:
    """12550 in USD -> "125.50", for pre-filling a form."""
    if minor is None:
        return ""
    places = decimal_places(currency)
    return f"{Decimal(minor).scaleb(-places):.{places}f}"
