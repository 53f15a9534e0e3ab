"""Template helpers shared by every surface: money, dates in the business's time zone and locale, hook slots.

Dates and times are formatted by Babel (CLDR) in the business's locale, so every page, email and receipt
says them the same way.
"""

from __future__ import annotations

import functools
from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date as babel_date
from babel.dates import format_time as babel_time
from flask import current_app
from markupsafe import Markup, escape

from core.identity.roles import can, can_open
from core.money.amounts import business_locale, format_money, to_major_text
from core.money.payments.wording import paid_with
from core.money.totals import percent_text
from core.tenancy.state import current_business


def business_tz(business=None) -> ZoneInfo:
    business = business or current_business()
    try:
        return ZoneInfo(business.timezone) if business else ZoneInfo("UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


@functools.lru_cache(maxsize=64)
def _locale(name: str) -> tuple[Locale, str, str]:
    """The parsed locale (Babel re-parses a name each call), its time pattern and "date at time" joiner."""
    locale = Locale.parse(name)
    # CLDR's pattern for "a date at a time" ("{1} 'at' {0}" in English), quotes removed as Babel does.
    joined = (locale.datetime_formats_relative.get("long") or "{1}, {0}").replace("'", "")
    return locale, "h:mm a z" if name.startswith("en") else "short", joined


def format_datetime(value: datetime | None) -> str:
    """A UTC timestamp in the business's time zone and locale, e.g. "Nov 25, 2026 at 3:04 PM EST"."""
    if value is None:
        return ""
    locale, time_pattern, joined = _locale(business_locale())
    local = value.astimezone(business_tz())
    day = babel_date(local, "medium", locale=locale)
    time = babel_time(local, time_pattern, tzinfo=local.tzinfo, locale=locale)
    return joined.replace("{0}", time).replace("{1}", day)


def format_date(value: date | datetime | None) -> str:
    """A date in the business's locale, e.g. "Nov 25, 2026"; a timestamp is taken in its time zone."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(business_tz()).date()
    return _medium_date(value, business_locale())


@functools.lru_cache(maxsize=4096)
def _medium_date(value: date, locale: str) -> str:
    # Babel parses the locale's patterns on every call; a list of invoices shows dozens of dates.
    return babel_date(value, "medium", locale=locale)


def hook_slot(hook_name: str, **kwargs) -> list:
    """Contributions of the business's enabled plugins to a named place in a template, ordered.

    Items with an ``order`` attribute are sorted by it, then by title; markup strings are kept as given.
    """
    results = current_app.extensions["suprata"].plugins.call(hook_name, **kwargs)
    return sorted(results, key=lambda item: (getattr(item, "order", 100), str(getattr(item, "title", ""))))


def format_percent(rate_bp) -> str:
    """A rate in basis points as people read it: 887.5 -> "8.875 %"."""
    return f"{percent_text(rate_bp)} %"


def tel_href(phone: str | None) -> str:
    """A phone number as a ``tel:`` address: "+1 (555) 010-2030" -> "tel:+15550102030"."""
    digits = "".join(ch for ch in phone or "" if ch.isdigit())
    return f"tel:{'+' if (phone or '').strip().startswith('+') else ''}{digits}"


def nl2br(text: str | None) -> Markup:
    if not text:
        return Markup("")
    return Markup("<br>").join(escape(text).split("\n"))


def init_app(app) -> None:
    app.jinja_env.filters.update(money=format_money, datetime=format_datetime, date=format_date, nl2br=nl2br,
                                 percent=format_percent, paid_with=paid_with, tel=tel_href,
                                 major=lambda amount, currency: to_major_text(amount, currency))
    app.jinja_env.globals.update(hook_slot=hook_slot, can=can, can_open=can_open)

    @app.context_processor
    def business_context():
        return {"business": current_business()}
