from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from babel import Locale
from babel.numbers import format_currency, format_decimal
from django import template
from django.conf import settings

from rating.pricing import minor_unit_exponent, round_money

register = template.Library()


@register.filter
def unit_price(value: Decimal | None) -> str:
    """A unit price with as many decimals as it has (2 to 6), so 0.00007 does not read 0.0001."""
    if value is None:
        return "—"
    text = f"{Decimal(value).quantize(Decimal('0.000001')):f}".rstrip("0")
    whole, _, frac = text.partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def money_text(amount: Decimal | None, currency: str, locale: str) -> str:
    """An amount rounded to the currency's minor unit, written the way the reader's locale writes money."""
    if amount is None:
        return "—"
    return format_currency(round_money(Decimal(amount), currency), currency, locale=_locale(locale))


@lru_cache(maxsize=64)
def _locale(identifier: str) -> Locale:
    return Locale.parse(identifier)


@register.simple_tag(takes_context=True, name="money")
def money_tag(context, amount: Decimal | None, currency: str) -> str:
    return money_text(amount, currency, context.get("user_locale") or settings.TALLY_LOCALE)


@register.simple_tag(takes_context=True)
def quantity(context, value: Decimal | None, digits: int = 2) -> str:
    if value is None:
        return "—"
    locale = context.get("user_locale") or settings.TALLY_LOCALE
    return format_decimal(Decimal(value), format=f"#,##0.{'0' * digits}", locale=_locale(locale))


# Tags and filters live apart in Django: {% money amount currency %} (the reader's locale) and
# {{ amount|money:currency }} (plain, for PDFs and exports) do not clash.
@register.filter
def money(value: Decimal | None, currency: str = "EUR") -> str:
    """An amount already rounded by round_money, shown to its currency's minor unit, with separators."""
    if value is None:
        return "—"
    return f"{Decimal(value).quantize(minor_unit_exponent(currency)):,f}"
