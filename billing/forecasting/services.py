"""The nightly forecast: ledger rows for every project, billing account and domain with
usage, anomaly flags for yesterday, then the budgets' alerts."""

from __future__ import annotations

import datetime as dt
import logging
import zlib
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import transaction

from billing.forecasting import stats
from billing.forecasting.series import CostBook, CostSeries, Target
from billing.models_forecast import Forecast, Scope, SpendAnomaly
from rating.models import CollectionMark, UsageRecord
from rating.pricing.money import SUBCENT
from rating.rating import day_start
from tenants.models import BillingAccount, Domain, Project

log = logging.getLogger(__name__)
# Sixteen weeks: enough for a trend and weekly seasonality, short enough that an old
# level does not outweigh the recent one.
HISTORY_DAYS = 112
MONTHS_AHEAD = 3


@dataclass
class ForecastRunReport:
    made_on: dt.date
    forecasts: int = 0
    run_rate: list[str] = field(default_factory=list)  # scopes forecast by run rate (short history)
    anomalies: list[SpendAnomaly] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    alerts: int = 0


def forecast_run(*, today: dt.date) -> ForecastRunReport:
    """Forecast every scope with usage from the days before `today`; safe to run again the same day."""
    from billing.forecasting.budgets import budgets_check

    report = ForecastRunReport(made_on=today)
    behind = collection_behind(today=today)
    if behind:
        # Uncollected days would look like days without spend: every forecast would drop,
        # every day would be an anomaly and every forecast alert would "resolve".
        report.skipped["all"] = behind
        log.warning("forecasts of %s not made: %s", today, behind)
        return report
    book = CostBook(today - dt.timedelta(days=HISTORY_DAYS), today)
    for target in forecast_targets(today=today):
        label = scope_label(target)
        try:
            made = forecast_make(target=target, today=today, book=book)
        except Exception as exc:  # one bad scope must not stop the others' forecasts
            log.exception("forecast of %s failed", label)
            report.skipped[label] = str(exc)
            continue
        if made is None:
            report.skipped[label] = "no priced usage"
            continue
        rows, anomaly = made
        report.forecasts += len(rows)
        if rows and rows[0].is_run_rate:
            report.run_rate.append(label)
        if anomaly:
            report.anomalies.append(anomaly)
    report.alerts = len(budgets_check(today=today, book=book))
    return report


def collection_behind(*, today: dt.date) -> str:
    """Why the days before `today` are not all collected yet ("" when they are)."""
    mark = CollectionMark.objects.filter(source=settings.TALLY_USAGE_SOURCE).first()
    midnight = day_start(today)
    if mark is None or mark.collected_until is None or mark.collected_until >= midnight:
        return ""
    return f"usage from {mark.source} is collected up to {mark.collected_until:%Y-%m-%d %H:%M %Z} only, not {today}"


def forecast_targets(*, today: dt.date) -> list[Target]:
    since = today - dt.timedelta(days=HISTORY_DAYS)
    project_ids = UsageRecord.objects.filter(start__date__gte=since).values("project_id").distinct()
    projects = list(Project.objects.filter(pk__in=project_ids).order_by("name"))
    accounts = BillingAccount.objects.filter(projects__in=projects).distinct().order_by("name")
    domains = Domain.objects.filter(project__in=projects).distinct().order_by("name")
    return [*projects, *accounts, *domains]


def scope_of(target: Target) -> dict:
    if isinstance(target, Project):
        return {"scope": Scope.PROJECT, "project": target}
    if isinstance(target, BillingAccount):
        return {"scope": Scope.ACCOUNT, "account": target}
    return {"scope": Scope.DOMAIN, "domain": target}


def scope_label(target: Target) -> str:
    return f"{Scope(scope_of(target)['scope']).label.lower()} {target}"


def forecast_make(
    *, target: Target, today: dt.date, book: CostBook | None = None
) -> tuple[list[Forecast], SpendAnomaly | None] | None:
    """Write today's ledger rows for one scope and flag yesterday if it fell outside its interval."""
    book = book or CostBook(today - dt.timedelta(days=HISTORY_DAYS), today)
    series = book.series(target)
    if not series.currency:
        return None
    # A stable seed per scope: the same data gives the same interval on a re-run.
    seed = zlib.crc32(scope_label(target).encode())
    made = stats.forecast_spend([float(a) for a in series.amounts], today=today, months=1 + MONTHS_AHEAD, seed=seed)
    rows = [_day_row(target, today, made, series.currency)]
    rows += [_month_row(target, today, made, m, series) for m in made.months]
    with transaction.atomic():
        # The ledger is append-only: a second run on the same day keeps the first run's rows.
        Forecast.objects.bulk_create(rows, ignore_conflicts=True)
        anomaly = anomaly_check(target=target, day=today - dt.timedelta(days=1), series=series)
    return rows, anomaly


def _money(value: float) -> Decimal:
    return Decimal(repr(float(value))).quantize(SUBCENT)


def _row(target: Target, today: dt.date, made: stats.SpendForecast, currency: str, **fields) -> Forecast:
    level = stats.DAY_LEVEL if fields["kind"] == Forecast.Kind.DAY else stats.LEVEL
    return Forecast(
        **scope_of(target),
        made_on=today,
        method=made.method,
        history_days=made.history_days,
        level=Decimal(str(level)),
        currency=currency,
        **fields,
    )


def _day_row(target, today, made: stats.SpendForecast, currency: str) -> Forecast:
    e = made.today
    return _row(
        target, today, made, currency, kind=Forecast.Kind.DAY, period_start=today, actual_to_date=Decimal(0),
        point=_money(e.point), lower=_money(e.lower), upper=_money(e.upper),
    )  # fmt: skip


def _month_row(target, today, made: stats.SpendForecast, month: stats.MonthForecast, series: CostSeries) -> Forecast:
    # The spend so far is exact (Decimal from the series); only the rest of the month is estimated.
    actual = sum((series.on(d) for d in _days(max(month.period_start, series.start), today)), Decimal(0))
    t = month.total
    return _row(
        target, today, made, series.currency, kind=Forecast.Kind.MONTH, period_start=month.period_start,
        actual_to_date=actual,
        point=actual + _money(t.point - month.actual_to_date),
        lower=actual + _money(t.lower - month.actual_to_date),
        upper=actual + _money(t.upper - month.actual_to_date),
    )  # fmt: skip


def _days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days)]


def anomaly_check(*, target: Target, day: dt.date, series: CostSeries) -> SpendAnomaly | None:
    """Flag `day` when its spend is outside the interval forecast for it (made that same day)."""
    forecast = Forecast.objects.filter(
        **scope_of(target), made_on=day, kind=Forecast.Kind.DAY, period_start=day
    ).first()
    if forecast is None or day < series.start:
        return None
    actual = series.on(day)
    if forecast.lower <= actual <= forecast.upper:
        return None
    anomaly, _ = SpendAnomaly.objects.get_or_create(
        forecast=forecast, defaults={**scope_of(target), "day": day, "actual": actual}
    )
    return anomaly
