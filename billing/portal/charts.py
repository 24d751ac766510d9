"""Chart data for the portal's charts (drawn by the vendored Chart.js in static/tally/charts.js).

Amounts are rounded to the currency here because a chart shows what a person reads;
totals shown as text come from the unrounded sums.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from rating.pricing import round_money


def _num(amount: Decimal, currency: str) -> float:
    return float(round_money(amount, currency))


def daily_chart(daily: list[tuple[dt.date, dict[str, Decimal]]], currency: str) -> dict:
    services = sorted({s for _, per in daily for s in per})
    return {
        "type": "bar",
        "stacked": True,
        "currency": currency,
        "labels": [d.isoformat() for d, _ in daily],
        "datasets": [
            {"label": s, "data": [_num(per.get(s, Decimal(0)), currency) for _, per in daily]} for s in services
        ],
    }


def breakdown_chart(items: list[tuple[str, Decimal]], currency: str, label: str) -> dict:
    return {
        "type": "bar",
        "horizontal": True,
        "currency": currency,
        "labels": [name for name, _ in items],
        "datasets": [{"label": label, "data": [_num(amount, currency) for _, amount in items]}],
    }


def months_chart(months: list[tuple[dt.date, Decimal, str]], currency: str) -> dict:
    return {
        "type": "bar",
        "currency": currency,
        "labels": [m.strftime("%Y-%m") for m, _, _ in months],
        "datasets": [{"label": f"Rated cost ({currency})", "data": [_num(t, c) for _, t, c in months]}],
    }
