"""Budgets and their alerts: once per threshold, basis and month, and once more when resolved."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.forecasting.series import CostBook
from billing.forecasting.services import scope_label, scope_of
from billing.forecasting.stats import month_start
from billing.models_forecast import AlertDelivery, Budget, BudgetAlert, Forecast
from rating.pricing import CurrencyMismatch, round_money
from tenants.models import BillingAccount, Project

log = logging.getLogger(__name__)
DEFAULT_THRESHOLDS = (50, 80, 100)


class BudgetInvalid(ValueError):
    """A budget that cannot be kept; the message says what to change."""


def budget_create(
    *,
    target: Project | BillingAccount,
    amount: Decimal | str | int,
    currency: str = "",
    thresholds: Iterable[int] = DEFAULT_THRESHOLDS,
    emails: Iterable[str] = (),
    webhook_url: str = "",
    name: str = "",
) -> Budget:
    if not isinstance(target, Project | BillingAccount):
        raise BudgetInvalid(f"a budget belongs to a project or a billing account, not {type(target).__name__}")
    account = target if isinstance(target, BillingAccount) else target.billing_account
    return Budget.objects.create(
        **scope_of(target),
        name=name,
        amount=_amount(amount),
        currency=(currency or (account.currency if account else "EUR")).upper(),
        thresholds=_thresholds(thresholds),
        emails=_emails(emails),
        webhook_url=_webhook_url(webhook_url),
        webhook_secret=secrets.token_hex(32) if webhook_url else "",
    )


def _amount(raw: Decimal | str | int) -> Decimal:
    try:
        amount = Decimal(str(raw))
    except InvalidOperation:
        raise BudgetInvalid(f"the budget amount {raw!r} is not a number") from None
    if not amount.is_finite() or amount <= 0:
        raise BudgetInvalid(f"the budget amount must be greater than zero, not {raw}")
    return amount


def _thresholds(raw: Iterable[int]) -> list[int]:
    try:
        values = sorted({int(t) for t in raw})
    except (TypeError, ValueError):
        raise BudgetInvalid(f"thresholds are whole percentages such as 50, 80, 100, not {list(raw)!r}") from None
    if not values or values[0] <= 0 or values[-1] > 1000:
        raise BudgetInvalid(f"thresholds must be percentages between 1 and 1000, not {values}")
    return values


def _emails(raw: Iterable[str]) -> list[str]:
    emails = [e.strip() for e in raw if e.strip()]
    for email in emails:
        try:
            validate_email(email)
        except ValidationError:
            raise BudgetInvalid(f"{email!r} is not an email address") from None
    return emails


def _webhook_url(url: str) -> str:
    url = url.strip()
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise BudgetInvalid(f"the webhook URL must be an http:// or https:// address with a host, not {url!r}")
    return url


# -- checking -------------------------------------------------------------------
def budgets_check(*, today: dt.date, book: CostBook | None = None) -> list[BudgetAlert]:
    """Compare every active budget with actual and forecast spend; return the alerts raised."""
    raised: list[BudgetAlert] = []
    start = month_start(today - dt.timedelta(days=1))
    if book is None or book.start > start or book.end != today:
        book = CostBook(start, today)
    for budget in Budget.objects.filter(active=True).select_related("project", "account"):
        try:
            raised += budget_check(budget=budget, today=today, book=book)
        except CurrencyMismatch as exc:  # one misconfigured budget must not silence the others
            log.error("budget %s not checked: %s", budget.pk, exc)
    return raised


def budget_check(*, budget: Budget, today: dt.date, book: CostBook) -> list[BudgetAlert]:
    # Actual spend counts up to yesterday, the last complete day, in yesterday's month: on the
    # 1st this still closes the month that just ended. The forecast is for today's month.
    yesterday = today - dt.timedelta(days=1)
    spent_month = month_start(yesterday)
    series = book.series(budget.target, currency=budget.currency)
    spent = sum(series.amounts[(spent_month - series.start).days :], Decimal(0))
    spends = {BudgetAlert.Basis.ACTUAL: (spent_month, spent)}
    forecast = (
        Forecast.objects.filter(**scope_of(budget.target), made_on=today, kind=Forecast.Kind.MONTH)
        .filter(period_start=month_start(today))
        .first()
    )
    if forecast is not None:
        spends[BudgetAlert.Basis.FORECAST] = (forecast.period_start, forecast.point)
    raised = []
    for basis, (period, spend) in spends.items():
        for threshold in budget.thresholds:
            alert = _alert_if_due(budget, period, threshold, basis, spend)
            if alert is not None:
                raised.append(alert)
    return raised


def _alert_if_due(budget: Budget, period: dt.date, threshold: int, basis: str, spend: Decimal) -> BudgetAlert | None:
    said = set(
        BudgetAlert.objects.filter(budget=budget, period_start=period, threshold=threshold, basis=basis).values_list(
            "kind", flat=True
        )
    )
    over = spend >= budget.amount * threshold / 100
    if over and BudgetAlert.Kind.TRIGGERED not in said:
        kind = BudgetAlert.Kind.TRIGGERED
    elif not over and BudgetAlert.Kind.TRIGGERED in said and BudgetAlert.Kind.RESOLVED not in said:
        kind = BudgetAlert.Kind.RESOLVED
    else:
        return None
    return _alert_raise(budget, period, threshold, basis, kind, spend)


def _alert_raise(budget, period, threshold, basis, kind, spend) -> BudgetAlert | None:
    try:
        with transaction.atomic():
            alert = BudgetAlert.objects.create(
                budget=budget,
                period_start=period,
                threshold=threshold,
                basis=basis,
                kind=kind,
                spend=spend,
                budget_amount=budget.amount,
                currency=budget.currency,
                message=alert_message(budget, period, threshold, basis, kind, spend),
            )
            _deliveries_queue(alert)
    except IntegrityError:  # another run said it first: once per threshold is the database's rule
        return None
    return alert


def alert_message(budget: Budget, period: dt.date, threshold: int, basis: str, kind: str, spend: Decimal) -> str:
    what = "Actual spend" if basis == BudgetAlert.Basis.ACTUAL else "Forecast month-end spend"
    money = f"{budget.currency} {round_money(spend, budget.currency)}"
    limit = f"{threshold}% of the {budget.currency} {round_money(budget.amount, budget.currency)} budget"
    where = f"{scope_label(budget.target)}, {period:%B %Y}"
    if kind == BudgetAlert.Kind.TRIGGERED:
        return f"{what} of {where} is {money}: it has reached {limit}."
    return f"Resolved: {what.lower()} of {where} is back to {money}, under {limit}."


def _deliveries_queue(alert: BudgetAlert) -> None:
    from billing.forecasting.delivery import deliveries_kick

    budget, now = alert.budget, timezone.now()
    rows = [
        AlertDelivery(alert=alert, channel=AlertDelivery.Channel.EMAIL, target=e, next_attempt_at=now)
        for e in budget.emails
    ]
    if budget.webhook_url:
        rows.append(
            AlertDelivery(
                alert=alert, channel=AlertDelivery.Channel.WEBHOOK, target=budget.webhook_url, next_attempt_at=now
            )
        )
    AlertDelivery.objects.bulk_create(rows)
    if rows:
        transaction.on_commit(deliveries_kick)
