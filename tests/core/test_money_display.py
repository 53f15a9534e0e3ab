"""Amounts are shown exactly as Babel (CLDR) shows them, in every locale, by the fast formatter or Babel."""

import random

from babel import localedata
from babel.numbers import format_currency

from core.money.amounts import format_money, money_formatter, to_major


def test_every_locale_shows_amounts_exactly_as_babel_does():
    amounts = random.Random(7)
    checked = 0
    for locale in localedata.locale_identifiers():
        for currency in ("USD", "EUR", "JPY", "KWD", "INR"):
            show = money_formatter(currency, locale)
            for _ in range(4):
                amount = amounts.randint(-10**10, 10**10) // amounts.choice([1, 100, 10**5])
                expected = format_currency(to_major(amount, currency), currency, locale=locale,
                                           currency_digits=True)
                assert show(amount) == expected, (locale, currency, amount)
                checked += 1
    assert checked > 20_000


def test_common_locales_take_the_fast_path():
    for locale in ("en_US", "en_GB", "en_IN", "fr_CA", "fr_FR", "de_DE", "es_MX", "ja_JP", "pt_BR"):
        assert money_formatter("USD", locale).__name__ == "from_pattern", locale
    assert format_money(-123456789, "USD", locale="en_IN") == "-$12,34,567.89"
    assert format_money(123456, "EUR", locale="fr_CA") == "1\u00a0234,56\u00a0€"
    assert format_money(1234, "JPY", locale="ja_JP") == "￥1,234"
