"""Money as integer minor units of an ISO currency: parsing what people type, and showing it, by CLDR.

The digits after the decimal point come from each currency's CLDR data (0 for JPY, 2 for USD, 3 for BHD),
in parsing and display alike; symbols, separators and their order follow the business's locale. Decimal,
never floats.

Display is on every customer page many times over, and Babel takes tens of microseconds per amount, so each
(currency, locale) gets a formatter built once from Babel's own pattern and symbols, and checked against
Babel on sample amounts before it is used; a locale whose pattern it does not reproduce keeps Babel.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from decimal import Decimal

from babel import Locale
from babel.numbers import (
    format_currency,
    get_currency_precision,
    get_currency_symbol,
    get_decimal_symbol,
    get_group_symbol,
)

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
    return money_formatter(currency.upper(), locale or business_locale())(amount)


# Amounts a formatter must show exactly as Babel does before it replaces Babel for a currency and locale.
_PROBES = (0, 1, -1, 7, 99, 100, 999, 1000, -1000, 12345, 123456, -1234567, 98765432, -987654321, 10**9)


@functools.lru_cache(maxsize=512)
def money_formatter(currency: str, locale: str) -> Callable[[int], str]:
    """Minor units -> display string for one currency in one locale, as Babel's ``format_currency``."""

    def by_babel(amount: int) -> str:
        return format_currency(to_major(amount, currency), currency, locale=locale, currency_digits=True)

    digits = currency_digits(currency)
    pattern = Locale.parse(locale).currency_formats["standard"]
    symbol = get_currency_symbol(currency, locale)
    decimal, group = get_decimal_symbol(locale), get_group_symbol(locale)
    primary, secondary = pattern.grouping
    prefixes = [prefix.replace("¤", symbol) for prefix in pattern.prefix]
    suffixes = [suffix.replace("¤", symbol) for suffix in pattern.suffix]

    def from_pattern(amount: int) -> str:
        negative = amount < 0
        whole, fraction = divmod(abs(int(amount)), 10**digits)
        text = str(whole)
        if len(text) > primary:
            head, groups = text[:-primary], [text[-primary:]]
            while len(head) > secondary:
                head, groups = head[:-secondary], [head[-secondary:], *groups]
            text = group.join([head, *groups])
        if digits:
            text += f"{decimal}{fraction:0{digits}d}"
        return prefixes[negative] + text + suffixes[negative]

    if all(from_pattern(amount) == by_babel(amount) for amount in _PROBES):
        return from_pattern
    return by_babel


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
