from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

import pytest

from rating.pricing import CurrencyMismatch, price_quantity, round_money, seconds_to_hours, sum_money


def test_it_rounds_half_up_to_the_currency_minor_unit():
    assert round_money(Decimal("1.005"), "EUR") == Decimal("1.01")
    assert round_money(Decimal("1.0049999"), "EUR") == Decimal("1.00")
    assert round_money(Decimal("1234.5"), "JPY") == Decimal("1235")
    assert round_money(Decimal("1.0005"), "KWD") == Decimal("1.001")


def test_it_refuses_floats_as_money():
    with pytest.raises(TypeError):
        round_money(1.005, "EUR")  # type: ignore[arg-type]


def test_it_refuses_a_negative_unit_price():
    with pytest.raises(ValueError, match="negative"):
        price_quantity(Decimal("1"), Decimal("-0.01"))


def test_it_converts_seconds_to_hours_exactly_enough_for_cents():
    assert seconds_to_hours(5400) == Decimal("1.5")
    # one second short of an hour, a million times, still prices to the cent
    assert round_money(price_quantity(seconds_to_hours(3599) * 1_000_000, Decimal("1")), "EUR") == Decimal("999722.22")


def test_it_refuses_to_add_two_currencies():
    with pytest.raises(CurrencyMismatch):
        sum_money([(Decimal("1"), "EUR"), (Decimal("1"), "USD")])


def test_it_imports_no_django():
    code = "import sys, rating.pricing; print(any(m == 'django' or m.startswith('django.') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
