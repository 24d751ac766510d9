from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from billing.models import CloseEvent, CloseRun, Statement, StatementLine
from rating.models import CollectionMark, RatedUsage
from rating.rating import billing_zone, month_bounds
from tenants.models import BillingAccount, Project
from tenants.selectors import projects_visible_to, user_is_finance


def statements_visible_to(user) -> QuerySet[Statement]:
    """Finance sees every statement; a project owner sees a statement only when
    every project on it is theirs, so an account's other projects never leak."""
    if user_is_finance(user):
        return Statement.objects.all()
    visible = projects_visible_to(user).values("keystone_id")
    usage_lines = StatementLine.objects.filter(statement=OuterRef("pk"), kind=StatementLine.Kind.USAGE)
    foreign_line = usage_lines.exclude(project_keystone_id__in=visible)
    mine = usage_lines.filter(project_keystone_id__in=visible)
    return Statement.objects.filter(Exists(mine), ~Exists(foreign_line), status=Statement.Status.ISSUED)


# -- periods ----------------------------------------------------------------------
def period_bounds(period_start: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of a billing month, shown in the billing time zone: the month rating prices."""
    zone = billing_zone()
    start, end = month_bounds(period_start)
    return start.astimezone(zone), end.astimezone(zone)


def period_accounts(*, period_start: dt.date) -> QuerySet[BillingAccount]:
    """Accounts with something to bill (rated usage) or already billed in a month."""
    used = RatedUsage.objects.filter(period_start=period_start, project__billing_account=OuterRef("pk"))
    billed = Statement.objects.filter(period_start=period_start, account=OuterRef("pk"))
    return BillingAccount.objects.filter(Q(Exists(used)) | Q(Exists(billed))).order_by("name")


def projects_without_account(*, period_start: dt.date) -> list[Project]:
    """Projects with usage in the month but no billing account: their usage would be billed to nobody."""
    used = RatedUsage.objects.filter(period_start=period_start, project=OuterRef("pk"))
    return list(Project.objects.filter(Exists(used), billing_account__isnull=True).order_by("name"))


# -- completeness -------------------------------------------------------------------
# A check takes a month and account ids and returns problems per account id. Add a check
# (e.g. the collection's reconciliation gaps) by appending to COMPLETENESS_CHECKS.
CompletenessCheck = Callable[[dt.date, list[int]], dict[int, list[str]]]


def _collection_marks(period_start: dt.date, account_ids: list[int]) -> dict[int, list[str]]:
    _, end = period_bounds(period_start)
    marks = list(CollectionMark.objects.order_by("source"))
    problems = [
        f"{m.source} usage is collected only up to {m.collected_until:%Y-%m-%d %H:%M %Z}; the month ends {end:%Y-%m-%d}"
        for m in marks
        if m.collected_until is None or m.collected_until < end
    ]
    if not marks:
        problems = ["no usage has been collected from any source"]
    return dict.fromkeys(account_ids, problems) if problems else {}


def _unpriced_usage(period_start: dt.date, account_ids: list[int]) -> dict[int, list[str]]:
    rows = (
        RatedUsage.objects.filter(
            period_start=period_start, amount__isnull=True, project__billing_account__in=account_ids
        )
        .values("project__billing_account", "metric", "price_key")
        .annotate(n=Count("id"))
    )
    problems: dict[int, list[str]] = defaultdict(list)
    for row in rows:
        item = f"{row['metric']} {row['price_key']}".strip()
        problems[row["project__billing_account"]].append(f"{row['n']} usage row(s) of {item} have no price")
    return problems


COMPLETENESS_CHECKS: list[CompletenessCheck] = [_collection_marks, _unpriced_usage]


def completeness_problems_by_account(*, period_start: dt.date, account_ids: Iterable[int]) -> dict[int, list[str]]:
    ids = list(account_ids)
    problems: dict[int, list[str]] = {pk: [] for pk in ids}
    for check in COMPLETENESS_CHECKS:
        for pk, found in check(period_start, ids).items():
            problems[pk].extend(found)
    return problems


def completeness_problems(*, account: BillingAccount, period_start: dt.date) -> list[str]:
    """Why an account's month is not complete yet; empty when it may be issued without an override."""
    return completeness_problems_by_account(period_start=period_start, account_ids=[account.pk])[account.pk]


# -- the close, for the finance page ------------------------------------------------------
@dataclass
class AccountPeriod:
    account: BillingAccount
    status: str  # "open", "closing", "ready" (may be drafted), "drafted" or "issued"
    statement: Statement | None
    problems: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.problems


def period_phase(*, period_start: dt.date, now: dt.datetime | None = None) -> str:
    """open until the month ends, closing during the grace period for late usage, then ready."""
    now = now or timezone.now()
    _, end = period_bounds(period_start)
    if now < end:
        return "open"
    if now < end + dt.timedelta(hours=settings.TALLY_CLOSE_GRACE_HOURS):
        return "closing"
    return "ready"


def period_overview(*, period_start: dt.date, now: dt.datetime | None = None) -> list[AccountPeriod]:
    """Every account of a month with its statement status and completeness, in a few queries."""
    accounts = list(period_accounts(period_start=period_start))
    problems = completeness_problems_by_account(period_start=period_start, account_ids=[a.pk for a in accounts])
    regular = {
        s.account_id: s
        for s in Statement.objects.filter(period_start=period_start, kind=Statement.Kind.INVOICE, corrects__isnull=True)
    }
    phase = period_phase(period_start=period_start, now=now)
    rows = []
    for account in accounts:
        statement = regular.get(account.pk)
        status = statement.status if statement else phase
        rows.append(AccountPeriod(account, status, statement, problems[account.pk]))
    return rows


def period_status(*, period_start: dt.date, now: dt.datetime | None = None) -> str:
    """The month as a whole: open → closing → ready → drafted → issued (every account)."""
    rows = period_overview(period_start=period_start, now=now)
    if rows and all(r.status == Statement.Status.ISSUED for r in rows):
        return "issued"
    if rows and all(r.status in {"draft", "issued"} for r in rows):
        return "drafted"
    return period_phase(period_start=period_start, now=now)


@dataclass
class CloseProgress:
    run: CloseRun
    total: int
    done: int
    refused: dict[str, str]

    @property
    def finished(self) -> bool:
        return self.done + len(self.refused) >= self.total


def close_progress(*, run: CloseRun) -> CloseProgress:
    """done / total of a close run: accounts whose task finished (issued or drafted) or was refused.

    Two indexed queries whatever the size of the run, so the close page can poll it.
    """
    events = CloseEvent.objects.filter(run=run)
    done = set(events.exclude(what="refused").values_list("account_id", flat=True).distinct())
    refused = {
        name: detail
        for account_id, name, detail in events.filter(what="refused")
        .order_by("id")
        .values_list("account_id", "account__name", "detail")
        if account_id not in done
    }
    return CloseProgress(run, len(run.account_ids), len(done), refused)


def close_run_latest(*, period_start: dt.date) -> CloseRun | None:
    return CloseRun.objects.filter(period_start=period_start).order_by("-requested_at", "-id").first()


# -- search -------------------------------------------------------------------------
def statements_search(
    *,
    user,
    text: str = "",
    period_start: dt.date | None = None,
    kind: str | None = None,
    status: str | None = None,
) -> QuerySet[Statement]:
    """Invoices, statements and credit notes a user may see, by number, account, contact or PO reference."""
    found = statements_visible_to(user)
    if text:
        found = found.filter(
            Q(number__icontains=text)
            | Q(account_name__icontains=text)
            | Q(contact_email__icontains=text)
            | Q(po_reference__icontains=text)
        )
    if period_start:
        found = found.filter(period_start=period_start)
    if kind:
        found = found.filter(kind=kind)
    if status:
        found = found.filter(status=status)
    return found.order_by("-period_start", "account_name", "id")


def statement_documents(*, statement: Statement) -> QuerySet[Statement]:
    """The regular invoice of a statement's account and month and every correction of it, in order."""
    return Statement.objects.filter(account=statement.account_id, period_start=statement.period_start).order_by(
        "issued_at", "id"
    )
