"""The locale a business's money and dates are shown in (CLDR data, through Babel): the choices staff pick
from, and a sensible default for a new business, taken from the country of its time zone."""

from __future__ import annotations

import functools

from babel import Locale, UnknownLocaleError
from babel.core import get_global

DEFAULT_LOCALE = "en_US"
OFFICIAL = ("official", "de_facto_official")


def _official_locales(territory: str) -> list[str]:
    """The country's official languages as locales CLDR knows, most spoken first."""
    spoken = get_global("territory_languages").get(territory, {})
    ranked = sorted(spoken.items(), key=lambda item: -item[1].get("population_percent", 0))
    found = []
    for language, facts in ranked:
        if facts.get("official_status") not in OFFICIAL:
            continue
        try:
            Locale.parse(f"{language}_{territory}")
        except (UnknownLocaleError, ValueError):
            continue
        found.append(f"{language}_{territory}")
    return found


def locale_for_timezone(timezone: str | None) -> str:
    """The most spoken official language of the time zone's country, in that country ("America/Toronto" ->
    "en_CA", "Europe/Paris" -> "fr_FR"); ``en_US`` when the zone names no country (UTC)."""
    territory = get_global("zone_territories").get(timezone or "")
    return next(iter(_official_locales(territory or "")), DEFAULT_LOCALE)


@functools.cache
def locale_choices() -> tuple[tuple[str, str], ...]:
    """(identifier, name) of each official language of each country, by name: ("fr_CA", "French (Canada)").
    Every locale a business can have is one of these."""
    territories = get_global("territory_languages")
    found = {identifier: Locale.parse(identifier).get_display_name("en")
             for territory in territories for identifier in _official_locales(territory)}
    return tuple(sorted(found.items(), key=lambda item: item[1]))
