"""Backtest of Tally's month-end spend forecast against the run rate.

    .venv/bin/python bench/forecast.py            # 60 synthetic series per family + the demo cloud
    .venv/bin/python bench/forecast.py --quick    # 12 per family, under a minute
    .venv/bin/python bench/forecast.py --calibrate  # fit INTERVAL_SCALE on seeds the report never uses

Synthetic daily series with a known trend, weekly seasonality, noise and level shifts, plus
the demo sample cloud (per project and per domain, priced with the demo rate card). For each
series the month-end total is forecast on days 7, 14 and 21 of the month (that many days of
the month known) by Tally's method and by the run rate (daily average so far x days in the
month). Reported: MAPE of each and the share of actual totals inside Tally's 80% interval.
The last line of output is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

# One thread each: the machine is shared and the fits are small; BLAS threads only contend.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from billing.forecasting import stats  # noqa: E402

ORIGINS = (7, 14, 21)
HISTORY_DAYS = 56  # eight weeks before the month
FAMILIES = ("flat", "trend", "shift", "trend_shift")
REPORT_SEED, CALIBRATION_SEED = 7, 1_000_003


@dataclass
class Series:
    family: str
    month: dt.date
    values: np.ndarray  # HISTORY_DAYS before the month, the month's days, then the next month's

    @property
    def month_days(self) -> int:
        return stats.days_in_month(self.month)


def synthetic(family: str, rng: np.random.Generator) -> Series:
    """A daily cost series whose trend, weekly pattern, noise and level shifts are known."""
    month = stats.month_start(dt.date(2025, 1, 1), int(rng.integers(0, 24)))
    in_month = HISTORY_DAYS + stats.days_in_month(month)
    n = in_month + stats.days_in_month(stats.month_start(month, 1))
    t = np.arange(n) - HISTORY_DAYS  # day 0 is the month's first day
    level = rng.uniform(50, 500)
    growth = 0.0
    if "trend" in family:  # 10-40% a month, a quarter of them down
        growth = rng.uniform(0.1, 0.4) * (1 if rng.random() < 0.75 else -0.6)
    values = level * (1 + growth * t / 30)
    weekday = np.array([(month + dt.timedelta(days=int(d))).weekday() for d in t])
    pattern = np.where(weekday >= 5, -2.5, 1.0)  # busy weekdays, quiet weekends; mean zero
    values = values + rng.uniform(0, 0.2) * level * pattern
    if "shift" in family:  # a project scales up or down once, before or during the month
        at = int(rng.integers(7, in_month - 3))
        values[at:] *= 1 + rng.uniform(0.2, 0.5) * rng.choice([-1, 1])
    values = values + rng.normal(0, rng.uniform(0.02, 0.12) * level, n)
    return Series(family, month, np.clip(values, 0, None))


def demo_cloud_series() -> list[Series]:
    """Daily cost per project and per domain of the demo sample cloud, priced with the demo rates."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("TALLY_DEBUG", "1")
    import django

    django.setup()
    from billing.demo import DEMO_PRICES
    from rating.collectors.sample import SampleCloud
    from rating.pricing import price_quantity

    cloud = SampleCloud(now=dt.datetime(2026, 11, 21, tzinfo=dt.UTC))
    domain_of = {p.keystone_id: p.domain_name for p in cloud.projects()}
    days = (cloud.end - cloud.start).days
    costs: dict[str, np.ndarray] = {}
    for i in range(days):
        day = cloud.start + dt.timedelta(days=i)
        for u in cloud.collect(day, day + dt.timedelta(days=1)):
            amount = float(price_quantity(u.quantity, DEMO_PRICES.get((u.metric, u.price_key), Decimal(0))))
            for key in (f"project:{u.project_id}", f"domain:{domain_of[u.project_id]}"):
                costs.setdefault(key, np.zeros(days))[i] += amount
    # The cloud's last month is the month forecast (it has no month after it).
    month = stats.month_start(cloud.end.date() - dt.timedelta(days=1))
    first = (month - cloud.start.date()).days
    return [Series("demo", month, v[first - HISTORY_DAYS :]) for v in costs.values()]


def backtest(series: Series) -> list[dict]:
    month_values = series.values[HISTORY_DAYS : HISTORY_DAYS + series.month_days]
    next_values = series.values[HISTORY_DAYS + series.month_days :]
    actual = float(month_values.sum())
    if actual <= 0:
        return []
    rows = []
    for day in ORIGINS:
        known = series.values[: HISTORY_DAYS + day]
        made = stats.forecast_spend(known, today=series.month + dt.timedelta(days=day), months=2)
        total = made.months[0].total
        run_rate = float(month_values[:day].mean()) * len(month_values)
        row = {
            "family": series.family,
            "day": day,
            "tally": abs(total.point - actual) / actual,
            "run_rate": abs(run_rate - actual) / actual,
            "covered": total.contains(actual),
            "method": made.method,
        }
        if len(next_values) and next_values.sum() > 0:  # the next month's total, not calibrated on
            row["next_covered"] = made.months[1].total.contains(float(next_values.sum()))
        rows.append(row)
    return rows


def summarise(rows: list[dict]) -> dict:
    def mape(key: str, subset: list[dict]) -> float:
        return round(100 * float(np.mean([r[key] for r in subset])), 2)

    out = {}
    for family in sorted({r["family"] for r in rows}):
        subset = [r for r in rows if r["family"] == family]
        out[family] = {
            "series": len(subset) // len(ORIGINS),
            "mape_tally": mape("tally", subset),
            "mape_run_rate": mape("run_rate", subset),
            "coverage_80": round(100 * float(np.mean([r["covered"] for r in subset])), 1),
            "by_day": {
                str(d): {"tally": mape("tally", s), "run_rate": mape("run_rate", s)}
                for d in ORIGINS
                if (s := [r for r in subset if r["day"] == d])
            },
        }
    synthetic_rows = [r for r in rows if r["family"] != "demo"]
    out["coverage_80_synthetic"] = round(100 * float(np.mean([r["covered"] for r in synthetic_rows])), 1)
    out["coverage_80_next_month_synthetic"] = round(
        100 * float(np.mean([r["next_covered"] for r in synthetic_rows if "next_covered" in r])), 1
    )
    return out


def verdict(summary: dict) -> dict:
    trend, flat = summary["trend"], summary["flat"]
    return {
        "trend_at_most_half_run_rate": trend["mape_tally"] <= trend["mape_run_rate"] / 2,
        "flat_not_worse": flat["mape_tally"] <= flat["mape_run_rate"],
        "coverage_75_85": 75 <= summary["coverage_80_synthetic"] <= 85,
    }


def calibrate(per_family: int) -> dict[str, float]:
    """Per model (trend or not), the interval scale that puts 80% of actual month totals inside,
    on calibration seeds the report never uses: the 80th percentile of |error| / half-width."""
    rng = np.random.default_rng(CALIBRATION_SEED)
    ratios: dict[bool, list[float]] = {False: [], True: []}
    stats.INTERVAL_SCALE = {False: 1.0, True: 1.0}
    for family in FAMILIES:
        for _ in range(per_family):
            s = synthetic(family, rng)
            actual = float(s.values[HISTORY_DAYS : HISTORY_DAYS + s.month_days].sum())
            for day in ORIGINS:
                made = stats.forecast_spend(s.values[: HISTORY_DAYS + day], today=s.month + dt.timedelta(days=day))
                t = made.months[0].total
                half = (t.upper - t.point) if actual >= t.point else (t.point - t.lower)
                ratios[made.trend].append(abs(actual - t.point) / half if half > 0 else np.inf)
    return {
        "trend" if trend else "level": round(float(np.quantile(r, 0.8)), 3) if r else 1.0 for trend, r in ratios.items()
    } | {"fits_trend": len(ratios[True]), "fits_level": len(ratios[False])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="12 series per family (under a minute)")
    parser.add_argument("--series", type=int, help="synthetic series per family (default 60, 12 with --quick)")
    parser.add_argument("--calibrate", action="store_true", help="print the INTERVAL_SCALE fitted on other seeds")
    args = parser.parse_args()
    per_family = args.series or (12 if args.quick else 60)
    began = time.monotonic()
    if args.calibrate:
        print(json.dumps({"interval_scale": calibrate(per_family), "series_per_family": per_family}))
        return
    rng = np.random.default_rng(REPORT_SEED)
    rows = []
    for family in FAMILIES:
        for _ in range(per_family):
            rows += backtest(synthetic(family, rng))
    for series in demo_cloud_series():
        rows += backtest(series)
    summary = summarise(rows)
    for family, figures in summary.items():
        if isinstance(figures, dict):
            print(
                f"{family:12} n={figures['series']:3}  MAPE tally {figures['mape_tally']:6.2f}%  "
                f"run rate {figures['mape_run_rate']:6.2f}%  80% coverage {figures['coverage_80']:5.1f}%"
            )
    print(
        f"synthetic: 80% coverage {summary['coverage_80_synthetic']}% of month-end totals, "
        f"{summary['coverage_80_next_month_synthetic']}% of next-month totals (not calibrated on)"
    )
    result = {
        "quick": args.quick,
        "interval_scale": {"trend" if k else "level": v for k, v in stats.INTERVAL_SCALE.items()},
        "seconds": round(time.monotonic() - began, 1),
        **summary,
        "targets": verdict(summary),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
