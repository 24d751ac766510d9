from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from babel import Locale
from babel.numbers import format_currency, format_decimal
from django import template
from django.conf import settings

from rating.pricing import round_money

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


@register.simple_tag(takes_context=True)
def money(context, amount: Decimal | None, currency: str) -> str:
    return money_text(amount, currency, context.get("user_locale") or settings.TALLY_LOCALE)


@register.simple_tag(takes_context=True)
def quantity(context, value: Decimal | None, digits: int = 2) -> str:
    if value is None:
        return "—"
    locale = context.get("user_locale") or settings.TALLY_LOCALE
    return format_decimal(Decimal(value), format=f"#,##0.{'0' * digits}", locale=_locale(locale))
