"""Tally's pricing arithmetic: pure Python and Decimal only, no Django (a test proves it)."""

from __future__ import annotations

from rating.pricing.money import (
    CurrencyMismatch,
    minor_unit_exponent,
    price_quantity,
    round_money,
    seconds_to_hours,
    sum_money,
)

__all__ = [
    "CurrencyMismatch",
    "minor_unit_exponent",
    "price_quantity",
    "round_money",
    "seconds_to_hours",
    "sum_money",
]
