"""Template helpers shared by every surface: money, dates in the business's time zone, hook slots."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, g
from markupsafe import Markup, escape

# Currencies without minor units; everything else is shown with two decimals.
ZERO_DECIMAL = {"JPY", "KRW", "VND", "CLP", "ISK", "UGX", "XAF", "XOF"}
SYMBOLS = {"USD": "$", "CAD": "CA$", "AUD": "A$", "EUR": "€", "GBP": "£", "JPY": "¥", "NZD": "NZ$"}


def format_money(amount: int | None, currency: str | None = None) -> str:
    """Integer minor units to a display string: 123456, "USD" -> "$1,234.56"."""
    if amount is None:
        return ""
    currency = (currency or (g.business.currency if g.get("business") else "USD")).upper()
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    if currency in ZERO_DECIMAL:
        number = f"{amount:,}"
    else:
        number = f"{amount // 100:,}.{amount % 100:02d}"
    symbol = SYMBOLS.get(currency)
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{number} {currency}"


def business_tz(business=None) -> ZoneInfo:
    business = business or g.get("business")
    try:
        return ZoneInfo(business.timezone) if business else ZoneInfo("UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def format_datetime(value: datetime | None, fmt: str = "%b %-d, %Y at %-I:%M %p %Z") -> str:
    """A UTC timestamp shown in the business's time zone, e.g. "Nov 25, 2026 at 3:04 PM EST"."""
    if value is None:
        return ""
    return value.astimezone(business_tz()).strftime(fmt)


def format_date(value: date | datetime | None, fmt: str = "%b %-d, %Y") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(business_tz())
    return value.strftime(fmt)


def hook_slot(hook_name: str, **kwargs) -> list:
    """Contributions of the business's enabled plugins to a named place in a template, ordered.

    Items with an ``order`` attribute are sorted by it, then by title; markup strings are kept as given.
    """
    results = current_app.extensions["suprata"].plugins.call(hook_name, **kwargs)
    return sorted(results, key=lambda item: (getattr(item, "order", 100), str(getattr(item, "title", ""))))


def nl2br(text: str | None) -> Markup:
    if not text:
        return Markup("")
    return Markup("<br>").join(escape(text).split("\n"))


def init_app(app) -> None:
    app.jinja_env.filters.update(money=format_money, datetime=format_datetime, date=format_date, nl2br=nl2br)
    app.jinja_env.globals.update(hook_slot=hook_slot)

    @app.context_processor
    def business_context():
        return {"business": g.get("business")}
