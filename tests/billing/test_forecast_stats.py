"""The pure forecasting statistics (no database)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import numpy as np

from billing.forecasting import stats

TODAY = dt.date(2026, 11, 10)  # 9 days of November known


def weekly(days: int, level: float = 100.0, slope: float = 0.0, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(days)
    weekend = np.array([(TODAY - dt.timedelta(days=int(days - i))).weekday() >= 5 for i in t])
    return level + slope * t - 30 * weekend + rng.normal(0, 3, days)


def test_it_imports_no_django():
    code = "import sys, billing.forecasting.stats; print(any(m.split('.')[0] == 'django' for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_it_falls_back_to_a_run_rate_with_a_wide_interval_under_14_days():
    made = stats.forecast_spend([10.0] * 9, today=TODAY)
    assert made.method == stats.RUN_RATE and made.history_days == 9
    november = made.months[0]
    assert november.actual_to_date == 90
    assert november.total.point == 90 + 10 * 21
    assert (november.total.lower, november.total.upper) == (90 + 105, 90 + 315)
    # further months are less certain still
    december = made.months[1].total
    assert december.point == 310 and december.upper - december.lower > 310


def test_it_counts_history_from_the_first_day_with_spend():
    made = stats.forecast_spend([0.0] * 60 + [5.0] * 13, today=TODAY)
    assert made.method == stats.RUN_RATE and made.history_days == 13
    assert stats.forecast_spend([0.0] * 60 + [5.0] * 14, today=TODAY).method == stats.ETS


def test_it_forecasts_this_month_and_the_next_three_with_ordered_intervals():
    made = stats.forecast_spend(weekly(70), today=TODAY)
    assert made.method == stats.ETS
    assert [m.period_start for m in made.months] == [
        dt.date(2026, 11, 1), dt.date(2026, 12, 1), dt.date(2027, 1, 1), dt.date(2027, 2, 1)
    ]  # fmt: skip
    for month in made.months:
        assert 0 <= month.total.lower < month.total.point < month.total.upper
    assert made.months[1].actual_to_date == 0


def test_it_follows_a_trend_the_run_rate_misses():
    history = weekly(70 + 30, slope=2.0)
    known, future = history[:70], history[70:]
    today = dt.date(2026, 11, 10)
    made = stats.forecast_spend(known, today=today, months=1)
    assert made.trend
    actual = known[-9:].sum() + future[: 30 - 9].sum()
    run_rate = known[-9:].mean() * 30
    assert abs(made.months[0].total.point - actual) < abs(run_rate - actual) / 2
    assert made.months[0].total.contains(actual)


def test_it_chooses_no_trend_on_a_flat_series():
    made = stats.forecast_spend(weekly(70), today=TODAY, months=1)
    assert not made.trend
    assert abs(made.months[0].total.point - (100 - 30 * 2 / 7) * 30) < 30 * 5


def test_it_gives_the_same_interval_for_the_same_data_and_seed():
    a = stats.forecast_spend(weekly(40), today=TODAY, seed=3)
    b = stats.forecast_spend(weekly(40), today=TODAY, seed=3)
    assert a == b


def test_it_copes_with_a_constant_series():
    made = stats.forecast_spend([12.5] * 40, today=TODAY)
    november = made.months[0].total
    assert november.lower <= 12.5 * 30 <= november.upper
    assert abs(november.point - 12.5 * 30) < 1


def test_it_counts_only_the_history_it_has_as_spent_this_month():
    # 20 days of history, 24 days into the month: all 20 were spent this month
    made = stats.forecast_spend([10.0] * 20, today=dt.date(2026, 11, 25))
    assert made.months[0].actual_to_date == 200
