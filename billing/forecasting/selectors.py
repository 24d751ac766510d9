"""Reads for the portal: latest forecasts, their past accuracy, anomalies and budget alerts,
each limited to what the user may see (finance: everything; others: their projects)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Exists, OuterRef, Q, QuerySet

from billing.forecasting.series import Target, daily_cost_series
from billing.forecasting.services import scope_of
from billing.forecasting.stats import month_start
from billing.models_forecast import BudgetAlert, Forecast, SpendAnomaly
from tenants.models import Project
from tenants.selectors import projects_visible_to, user_is_finance


def _visible(user, qs: QuerySet, prefix: str = "") -> QuerySet:
    """Project rows of the user's projects; account rows only when every project of the
    account is theirs (as for statements); domain rows for finance only."""
    if user_is_finance(user):
        return qs
    mine = projects_visible_to(user)
    foreign = Project.objects.filter(billing_account=OuterRef(f"{prefix}account")).exclude(pk__in=mine.values("pk"))
    return qs.filter(
        Q(**{f"{prefix}project__in": mine}) | Q(**{f"{prefix}account__projects__in": mine}) & ~Exists(foreign)
    ).distinct()


def budget_alerts_visible_to(user) -> QuerySet[BudgetAlert]:
    """The in-portal notifications, newest first."""
    return _visible(user, BudgetAlert.objects.select_related("budget"), prefix="budget__").order_by(
        "-created_at", "-pk"
    )


def anomalies_visible_to(user) -> QuerySet[SpendAnomaly]:
    return _visible(user, SpendAnomaly.objects.select_related("forecast")).order_by("-day")


def forecasts_visible_to(user) -> QuerySet[Forecast]:
    return _visible(user, Forecast.objects.all())


def forecast_latest(*, target: Target) -> list[Forecast]:
    """The month forecasts of the last nightly run for a scope (this month and the next three)."""
    rows = Forecast.objects.filter(**scope_of(target), kind=Forecast.Kind.MONTH)
    last = rows.order_by("-made_on").values_list("made_on", flat=True).first()
    return list(rows.filter(made_on=last).order_by("period_start")) if last else []


@dataclass(frozen=True)
class Scored:
    forecast: Forecast
    actual: Decimal

    @property
    def error(self) -> Decimal:
        """Absolute percentage error of the point forecast (None when nothing was spent)."""
        return abs(self.forecast.point - self.actual) / self.actual * 100 if self.actual else Decimal(0)

    @property
    def hit(self) -> bool:
        return self.forecast.lower <= self.actual <= self.forecast.upper


@dataclass(frozen=True)
class Accuracy:
    scored: list[Scored]

    @property
    def count(self) -> int:
        return len(self.scored)

    @property
    def mape(self) -> Decimal | None:
        errors = [s.error for s in self.scored if s.actual]
        return sum(errors, Decimal(0)) / len(errors) if errors else None

    @property
    def hit_rate(self) -> Decimal | None:
        return Decimal(sum(s.hit for s in self.scored) * 100) / self.count if self.count else None


def forecast_accuracy(*, target: Target, today: dt.date, kind: str = Forecast.Kind.MONTH) -> Accuracy:
    """How past forecasts of finished periods compared with what was spent: error and hit rate."""
    if kind == Forecast.Kind.MONTH:
        rows = Forecast.objects.filter(**scope_of(target), kind=kind, period_start__lt=month_start(today))
    else:
        rows = Forecast.objects.filter(**scope_of(target), kind=kind, period_start__lt=today)
    rows = list(rows.order_by("period_start", "made_on"))
    if not rows:
        return Accuracy([])
    series = daily_cost_series(target=target, start=rows[0].period_start, end=today)
    return Accuracy([Scored(f, _actual(series, f)) for f in rows])


def _actual(series, forecast: Forecast) -> Decimal:
    if forecast.kind == Forecast.Kind.DAY:
        return series.on(forecast.period_start)
    first = (forecast.period_start - series.start).days
    last = (month_start(forecast.period_start, 1) - series.start).days
    return sum(series.amounts[first:last], Decimal(0))
