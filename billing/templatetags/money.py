from __future__ import annotations

from decimal import Decimal

from django import template

from rating.pricing import minor_unit_exponent

register = template.Library()


@register.filter
def unit_price(value: Decimal | None) -> str:
    """A unit price with as many decimals as it has (2 to 6), so 0.00007 does not read 0.0001."""
    if value is None:
        return "—"
    text = f"{Decimal(value).quantize(Decimal('0.000001')):f}".rstrip("0")
    whole, _, frac = text.partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"


@register.filter
def money(value: Decimal | None, currency: str = "EUR") -> str:
    """An amount already rounded by round_money, shown to its currency's minor unit, with separators."""
    if value is None:
        return "—"
    return f"{Decimal(value).quantize(minor_unit_exponent(currency)):,f}"
