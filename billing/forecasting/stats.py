"""Spend forecasting: pure statistics on a daily cost series, no Django (a test proves it).

Holt-Winters exponential smoothing (statsmodels) with weekly seasonality, with or without a
trend, whichever has the lower AICc. Month totals are the actual spend so far plus the
forecast of the remaining days; their 80% interval comes from simulated future paths, so the
days' errors add up the way the model says they do (a level error persists), widened by a
calibration factor measured on backtests (`bench/forecast.py`), because a fitted model knows
nothing of its own parameter error or of level shifts still to come.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

MIN_HISTORY_DAYS = 14
SEASON_DAYS = 7
LEVEL = 0.8
# The interval a single day is checked against for anomalies: at 80%, one ordinary day in
# five would be flagged, so the day forecast is stored at 95%.
DAY_LEVEL = 0.95
ETS = "ets"
RUN_RATE = "run_rate"
# Widening of the simulated intervals, per model (with a trend or without), fitted with
# `bench/forecast.py --calibrate` on seeds disjoint from those it reports on; 1.0 would trust
# statsmodels' own spread, which ignores the error in the fitted parameters (the slope's most).
INTERVAL_SCALE = {False: 0.99, True: 1.87}
# Under MIN_HISTORY_DAYS the run rate's remaining spend is given +-this share (and more
# for the months after): the history is too short to say anything sharper honestly.
RUN_RATE_WIDTH = 0.5
# A model that saw no variation at all (one VM, every day the same) would claim certainty;
# nothing about future spend is certain, so an interval is never narrower than +-this share.
MIN_WIDTH = 0.02


@dataclass(frozen=True)
class Estimate:
    point: float
    lower: float
    upper: float

    def contains(self, value: float) -> bool:
        return self.lower <= value <= self.upper


@dataclass(frozen=True)
class MonthForecast:
    period_start: dt.date
    actual_to_date: float
    total: Estimate


@dataclass(frozen=True)
class SpendForecast:
    method: str  # ETS, or RUN_RATE when the history is shorter than MIN_HISTORY_DAYS
    history_days: int
    trend: bool  # the model chosen has a trend
    today: Estimate  # the spend of the day the forecast is made on, at DAY_LEVEL
    months: list[MonthForecast]


def month_start(day: dt.date, months_ahead: int = 0) -> dt.date:
    index = day.year * 12 + day.month - 1 + months_ahead
    return dt.date(index // 12, index % 12 + 1, 1)


def days_in_month(day: dt.date) -> int:
    return (month_start(day, 1) - month_start(day)).days


def forecast_spend(
    history: Sequence[float], *, today: dt.date, months: int = 4, level: float = LEVEL, seed: int = 0
) -> SpendForecast:
    """Forecast from the daily spend of the days before `today` (the last value is yesterday's).

    Leading zero days (before the scope had any usage) do not count as history.
    """
    y = np.asarray(history, dtype=float)
    y = y[int(np.argmax(y > 0)) :] if (y > 0).any() else y[:0]
    if len(y) < MIN_HISTORY_DAYS:
        return _run_rate(y, today=today, months=months, history=history)
    fit = _fit(y)
    paths, mean = _simulate(fit, horizon=_horizon(today, months), seed=seed)
    scale = INTERVAL_SCALE[fit.trend]
    return SpendForecast(
        method=ETS,
        history_days=len(y),
        trend=fit.trend,
        today=_interval(mean[:1].sum(), paths[:1].sum(axis=0), DAY_LEVEL, scale),
        months=[_month(history, today, k, mean, paths, level, scale) for k in range(months)],
    )


def _horizon(today: dt.date, months: int) -> int:
    return (month_start(today, months) - today).days


def _window(today: dt.date, k: int) -> tuple[int, int]:
    """Positions of month k's days in the forecast horizon (day 0 is today)."""
    start = max((month_start(today, k) - today).days, 0)
    return start, (month_start(today, k + 1) - today).days


def _actual_to_date(history: Sequence[float], today: dt.date, k: int) -> float:
    if k > 0:
        return 0.0
    elapsed = (today - month_start(today)).days
    return float(sum(history[max(len(history) - elapsed, 0) :])) if elapsed else 0.0


def _month(history, today, k, mean, paths, level, scale) -> MonthForecast:
    lo, hi = _window(today, k)
    actual = _actual_to_date(history, today, k)
    rest = _interval(mean[lo:hi].sum(), paths[lo:hi].sum(axis=0), level, scale)
    total = Estimate(actual + rest.point, actual + rest.lower, actual + rest.upper)
    return MonthForecast(month_start(today, k), actual, total)


def _interval(point: float, sums: np.ndarray, level: float, scale: float) -> Estimate:
    """Quantiles of the simulated sums around the model's point forecast, widened and kept >= 0."""
    tail = (1 - level) / 2
    low, high = np.quantile(sums - sums.mean(), [tail, 1 - tail]) * scale
    point = max(float(point), 0.0)
    low, high = min(low, -MIN_WIDTH * point), max(high, MIN_WIDTH * point)
    return Estimate(float(point), float(max(point + low, 0.0)), float(max(point + high, 0.0)))


def _simulate(fit: _Scaled, *, horizon: int, seed: int, repetitions: int = 500) -> tuple[np.ndarray, np.ndarray]:
    """Simulated daily paths (horizon x repetitions) and daily point forecasts, negative days clipped."""
    mean = np.asarray(fit.forecast(horizon), dtype=float)
    rng = np.random.default_rng(seed)
    paths = np.asarray(fit.simulate(horizon, repetitions=repetitions, error="add", rng=rng), dtype=float)
    return np.clip(paths, 0, None), np.clip(mean, 0, None)


def _fit(y: np.ndarray) -> _Scaled:
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    seasonal = "add" if len(y) >= 2 * SEASON_DAYS else None
    scale = float(np.abs(y).mean()) or 1.0
    best = None
    with _quiet():
        for trend in (None, "add"):
            model = ExponentialSmoothing(
                y / scale,
                trend=trend,
                seasonal=seasonal,
                seasonal_periods=SEASON_DAYS if seasonal else None,
                initialization_method="estimated",
            )
            fit = model.fit()
            if best is None or _aicc(fit) < _aicc(best):
                best = fit
    return _Scaled(best, scale)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """statsmodels warns about convergence, and divides by zero in its AIC on a constant
    series, on every fit and prediction; the AICc choice and the spread handle both."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield


def _aicc(fit) -> float:
    value = float(fit.aicc)
    return value if math.isfinite(value) else math.inf


@dataclass
class _Scaled:
    """A fit on the series divided by its mean (well-conditioned), answering in its units."""

    fit: object
    scale: float

    @property
    def trend(self) -> bool:
        return self.fit.model.trend is not None  # type: ignore[attr-defined]

    def forecast(self, horizon: int) -> np.ndarray:
        with _quiet():
            return np.asarray(self.fit.forecast(horizon)) * self.scale

    def simulate(self, horizon: int, **kwargs) -> np.ndarray:
        with _quiet():
            paths = np.asarray(self.fit.simulate(horizon, anchor="end", **kwargs))
        return paths.reshape(horizon, -1) * self.scale


def _run_rate(y: np.ndarray, *, today: dt.date, months: int, history: Sequence[float]) -> SpendForecast:
    daily = float(y.mean()) if len(y) else 0.0
    out = []
    for k in range(months):
        lo, hi = _window(today, k)
        actual = _actual_to_date(history, today, k)
        rest, width = daily * (hi - lo), RUN_RATE_WIDTH * (1 + k)
        total = Estimate(actual + rest, actual + max(rest * (1 - width), 0.0), actual + rest * (1 + width))
        out.append(MonthForecast(month_start(today, k), actual, total))
    today_estimate = Estimate(daily, max(daily * (1 - RUN_RATE_WIDTH), 0.0), daily * (1 + RUN_RATE_WIDTH))
    return SpendForecast(method=RUN_RATE, history_days=len(y), trend=False, today=today_estimate, months=out)
