from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

# Stored precision of quantities and unrounded amounts (DecimalField decimal_places=10).
SUBCENT = Decimal("1E-10")

# ISO 4217 minor units for the currencies that differ from the usual two decimals.
_MINOR_UNITS = {"JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "VND": 0, "BHD": 3, "KWD": 3, "JOD": 3, "OMR": 3, "TND": 3}


class CurrencyMismatch(ValueError):
    pass


def minor_unit_exponent(currency: str) -> Decimal:
    return Decimal(1).scaleb(-_MINOR_UNITS.get(currency.upper(), 2))


def round_money(amount: Decimal, currency: str, rounding: str = ROUND_HALF_UP) -> Decimal:
    """The one place an amount is rounded to what a currency can pay: once per invoice line."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"money must be Decimal, got {type(amount).__name__}")
    return amount.quantize(minor_unit_exponent(currency), rounding=rounding)


def seconds_to_hours(seconds: Decimal | int) -> Decimal:
    # Kept at SUBCENT precision: an hour is 3600 s, so a second is not exact in
    # decimal hours; 1e-10 h is far below anything that reaches a cent.
    return (Decimal(seconds) / Decimal(3600)).quantize(SUBCENT, rounding=ROUND_HALF_UP)


def price_quantity(quantity: Decimal, unit_price: Decimal) -> Decimal:
    """Unrounded amount of a quantity at a unit price, kept at sub-cent precision."""
    if unit_price < 0:
        raise ValueError(f"a unit price cannot be negative: {unit_price}")
    return (quantity * unit_price).quantize(SUBCENT, rounding=ROUND_HALF_UP)


def sum_money(amounts: Iterable[tuple[Decimal, str]]) -> tuple[Decimal, str | None]:
    """Sum (amount, currency) pairs; adding two currencies is an error."""
    total, currency = Decimal(0), None
    for amount, cur in amounts:
        if currency is not None and cur != currency:
            raise CurrencyMismatch(f"cannot add {cur} to {currency}")
        total, currency = total + amount, cur
    return total, currency
