"""Money as integer minor units of an ISO currency: parsing what people type, and showing it, by CLDR.

The digits after the decimal point come from each currency's CLDR data (0 for JPY, 2 for USD, 3 for BHD),
in parsing and display alike; symbols, separators and their order follow the business's locale. Decimal,
never floats.
"""

from __future__ import annotations

import functools
import re
from decimal import Decimal

from babel.numbers import format_currency, get_currency_precision

from core.tenancy.state import current_business

# Amount columns are 32-bit integers on PostgreSQL; this keeps every amount and total well inside them.
LARGEST_AMOUNT = 1_000_000_000
DEFAULT_LOCALE = "en_US"

_PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def currency_digits(currency: str) -> int:
    """Digits after the decimal point for a currency: 0 for JPY, 2 for USD, 3 for KWD."""
    return get_currency_precision(currency.upper())


def business_locale() -> str:
    """The locale money and dates are shown in: the current business's, else the default."""
    business = current_business()
    return getattr(business, "locale", None) or DEFAULT_LOCALE


def to_major(minor: int, currency: str) -> Decimal:
    """12550 in USD -> Decimal("125.50")."""
    return Decimal(minor).scaleb(-currency_digits(currency))


def format_money(amount: int | None, currency: str | None = None, *, locale: str | None = None) -> str:
    """Integer minor units to a display string: 123456, "USD" -> "$1,234.56" (in en_US).

    Without ``currency`` the current business's currency is used.
    """
    if amount is None:
        return ""
    if currency is None:
        business = current_business()
        currency = business.currency if business else "USD"
    return _formatted(amount, currency.upper(), locale or business_locale())


@functools.lru_cache(maxsize=8192)
def _formatted(amount: int, currency: str, locale: str) -> str:
    # Babel parses the locale's patterns on every call; a page listing invoices formats dozens of amounts.
    return format_currency(to_major(amount, currency), currency, locale=locale, currency_digits=True)


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
    digits = currency_digits(currency)
    value = parse_decimal(text, places=digits, allow_negative=allow_negative)
    minor = int(value.scaleb(digits))
    if abs(minor) > LARGEST_AMOUNT:
        raise ValueError("That amount is too large.")
    return minor


def to_major_text(minor: int | None, currency: str) -> str:
    """12550 in USD -> "125.50", for pre-filling a form."""
    if minor is None:
        return ""
    digits = currency_digits(currency)
    return f"{to_major(minor, currency):.{digits}f}"
