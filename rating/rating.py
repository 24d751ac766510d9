"""Rating a month: aggregate usage in the database, price the aggregates in rating.pricing.

Re-exported by rating.services (usage_rate_period and friends).
"""

from __future__ import annotations

import datetime as dt
import itertools
import zoneinfo
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction

from rating.models import Contract, RateCardVersion, RatedUsage
from rating.pricing.engine import Aggregate, Line, Segment, Terms, price_period
from rating.pricing.money import SUBCENT
from rating.pricing.rules import COMPONENTS, PriceList
from rating.rate_cards import rate_rule_of

UTC = dt.UTC
# Usage records are clipped to collection windows; none is longer than this, so a
# month's records all start at most this long before it (lets the start index bound the scan).
MAX_WINDOW = dt.timedelta(days=7)


def billing_zone() -> zoneinfo.ZoneInfo:
    """Billing months and days are calendar months and days in TALLY_BILLING_TIME_ZONE."""
    return zoneinfo.ZoneInfo(settings.TALLY_BILLING_TIME_ZONE)


def day_start(day: dt.date) -> dt.datetime:
    """The instant a billing day starts, in UTC.

    In UTC because Python subtracts two datetimes of one zone by their wall clocks: October in
    Brussels would last 744 hours, not the 745 it has with the change back from summer time.
    """
    return dt.datetime(day.year, day.month, day.day, tzinfo=billing_zone()).astimezone(UTC)


def billing_day(moment: dt.datetime) -> dt.date:
    """The billing day an instant falls on."""
    return moment.astimezone(billing_zone()).date()


def month_bounds(period_start: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of a billing month, as UTC instants."""
    nxt = dt.date(period_start.year + period_start.month // 12, period_start.month % 12 + 1, 1)
    return day_start(period_start.replace(day=1)), day_start(nxt)


def price_list_of(version: RateCardVersion) -> PriceList:
    rates = version.rates.prefetch_related("tiers").order_by("pk")
    return PriceList(
        version_id=version.pk,
        label=str(version),
        currency=version.card.currency,
        rules=tuple(rate_rule_of(rate, rate.pk) for rate in rates),
    )


def rate_card_version_for(*, period_start: dt.date, card=None) -> RateCardVersion | None:
    """The published version in effect on a day."""
    versions = RateCardVersion.objects.filter(status="published", effective_from__lte=period_start).exclude(
        effective_to__lt=period_start
    )
    if card is not None:
        versions = versions.filter(card=card)
    return versions.select_related("card").order_by("-effective_from", "-number", "-pk").first()


def rating_segments(*, start: dt.datetime, end: dt.datetime, draft: RateCardVersion | None = None) -> list[Segment]:
    """Split [start, end) wherever the version in effect or a contract changes.

    With a draft (what-if), the draft prices the whole period.
    """
    first, last = billing_day(start), billing_day(end)
    days = {first, last}
    if draft is None:
        for v in RateCardVersion.objects.filter(status="published"):
            days |= {v.effective_from} | ({v.effective_to + dt.timedelta(days=1)} if v.effective_to else set())
    for c in Contract.objects.all():
        days |= {c.valid_from} | ({c.valid_to + dt.timedelta(days=1)} if c.valid_to else set())
    bounds = sorted(day_start(d) for d in days if first <= d <= last)
    cache: dict[int, PriceList] = {}
    segments = []
    for lo, hi in itertools.pairwise(bounds):
        version = draft if draft is not None else rate_card_version_for(period_start=billing_day(lo))
        prices = None
        if version is not None:
            if version.pk not in cache:
                cache[version.pk] = price_list_of(version)
            prices = cache[version.pk]
        segments.append(Segment(lo, hi, prices))
    return segments


def contract_terms(*, segments: list[Segment], project_ids: set[int]) -> dict[tuple[int, int], Terms]:
    """(project, segment) -> the contract in force; a project's own contract beats its account's."""
    from tenants.models import Project

    accounts = dict(Project.objects.filter(pk__in=project_ids).values_list("pk", "billing_account_id"))
    contracts = list(Contract.objects.prefetch_related("prices").order_by("valid_from", "pk"))
    terms: dict[tuple[int, int], Terms] = {}
    for i, seg in enumerate(segments):
        day = billing_day(seg.start)
        live = [c for c in contracts if c.valid_from <= day and (c.valid_to is None or c.valid_to >= day)]
        by_account = {c.account_id: c for c in live if c.account_id}
        by_project = {c.project_id: c for c in live if c.project_id}
        for project in project_ids:
            contract = by_project.get(project) or by_account.get(accounts.get(project))
            if contract is not None:
                terms[(project, i)] = _terms(contract)
    return terms


def _terms(contract: Contract) -> Terms:
    overrides = tuple(sorted(((p.metric, p.price_key), p.unit_price) for p in contract.prices.all()))
    return Terms(contract_id=contract.pk, discount_percent=contract.discount_percent, overrides=overrides)


def usage_aggregate(
    *,
    start: dt.datetime,
    end: dt.datetime,
    segments: list[Segment],
    exclude_projects: list[int] = (),
    only_projects: list[int] | None = None,
) -> list[Aggregate]:
    """One SQL statement: usage summed per segment, project, metric, price key and the attributes rules use.

    A record crossing a segment boundary (a price change inside a collection window) is
    split in proportion to its seconds on each side.
    """
    attributes = _attributes(segments)
    sql, params = _aggregate_sql(
        connection.vendor, start, end, segments, attributes, list(exclude_projects), only_projects
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    names = sorted(attributes)
    out = []
    for row in rows:
        attrs = tuple((n, None if v is None else str(v)) for n, v in zip(names, row[5:-1], strict=True))
        quantity = row[-1] if isinstance(row[-1], Decimal) else Decimal(str(row[-1]))
        out.append(Aggregate(row[0], row[1], row[2], row[3], row[4], quantity.quantize(SUBCENT), attrs))
    return out


def _attributes(segments: list[Segment]) -> dict[str, set[str]]:
    """attribute -> metrics to read it for: what rules match on, and the flavor of component usage."""
    names: dict[str, set[str]] = {"flavor_name": set(COMPONENTS)}
    for seg in segments:
        if seg.prices is not None:
            for name, metrics in seg.prices.attribute_names().items():
                names.setdefault(name, set()).update(metrics)
    return names


def _aggregate_sql(vendor, start, end, segments, attributes, exclude, only=None) -> tuple[str, list]:
    pg = vendor == "postgresql"
    ts = (lambda v: v) if pg else connection.ops.adapt_datetimefield_value
    seg_params: list = []
    seg_rows = []
    for i, seg in enumerate(segments):
        seg_rows.append("(%s, CAST(%s AS timestamptz), CAST(%s AS timestamptz))" if pg else "(%s, %s, %s)")
        seg_params += [i, ts(seg.start), ts(seg.end)]
    params: list = []  # in the order they appear: attributes, segments, filters
    attr_exprs = []
    for name in sorted(attributes):
        metrics = sorted(attributes[name])
        marks = ", ".join(["%s"] * len(metrics))
        get = "u.attributes ->> %s" if pg else "json_extract(u.attributes, %s)"
        attr_exprs.append(f"CASE WHEN u.metric IN ({marks}) THEN {get} END")
        params += [*metrics, name if pg else f'$."{name}"']

    def secs(a: str, b: str) -> str:
        if pg:
            return f"EXTRACT(EPOCH FROM ({a} - {b}))"
        # Whole seconds (SQLite's julianday() is a float and drifts by microseconds).
        return f"(CAST(strftime('%%s', {a}) AS REAL) - CAST(strftime('%%s', {b}) AS REAL))"

    least, greatest = ("LEAST", "GREATEST") if pg else ("MIN", "MAX")
    end_col = 'u."end"'
    overlap = secs(f"{least}({end_col}, s.hi)", f"{greatest}(u.start, s.lo)")
    share = f"u.quantity * {overlap} / NULLIF({secs(end_col, 'u.start')}, 0)"
    where = "u.start >= %s AND u.start < %s"
    params += [*seg_params, ts(start - MAX_WINDOW), ts(end)]
    if exclude:
        where += f" AND u.project_id NOT IN ({', '.join(['%s'] * len(exclude))})"
        params += exclude
    if only is not None:
        # The portal prices one project's month to date: no need to aggregate the whole cloud.
        where += f" AND u.project_id IN ({', '.join(['%s'] * len(only)) or 'NULL'})"
        params += list(only)
    group = ", ".join(str(i) for i in range(1, 6 + len(attr_exprs)))
    cols = "".join(f", {e}" for e in attr_exprs)
    # Only placeholders and fixed SQL fragments are interpolated; every value is a parameter.
    sql = f"""
        SELECT s.idx, u.project_id, u.metric, u.price_key, u.unit{cols},
               SUM(CASE WHEN u.start >= s.lo AND u."end" <= s.hi THEN u.quantity ELSE {share} END)
        FROM rating_usagerecord u
        JOIN (VALUES {", ".join(seg_rows)}) AS s(idx, lo, hi)
          ON u.start < s.hi AND (u."end" > s.lo OR (u."end" = u.start AND u.start >= s.lo))
        WHERE {where}
        GROUP BY {group}
        ORDER BY {group}
    """  # noqa: S608
    if not pg:
        # SQLite names VALUES columns column1..3.
        sql = sql.replace("AS s(idx, lo, hi)", "AS s").replace("s.idx", "s.column1")
        sql = sql.replace("s.lo", "s.column2").replace("s.hi", "s.column3")
    return sql, params


def rating_lines(
    *,
    period_start: dt.date,
    draft: RateCardVersion | None = None,
    exclude_projects: list[int] = (),
    only_projects: list[int] | None = None,
) -> list[Line]:
    """The rated lines of a month, computed and returned; nothing is written."""
    start, end = month_bounds(period_start.replace(day=1))
    segments = rating_segments(start=start, end=end, draft=draft)
    aggregates = usage_aggregate(
        start=start, end=end, segments=segments, exclude_projects=exclude_projects, only_projects=only_projects
    )
    terms = contract_terms(segments=segments, project_ids={a.project for a in aggregates})
    return price_period(aggregates=aggregates, segments=segments, terms=terms, month_start=start, month_end=end)


def _issued_projects(period_start: dt.date) -> list[int]:
    from billing.models import Statement
    from tenants.models import Project

    accounts = Statement.objects.filter(period_start=period_start, status=Statement.Status.ISSUED).values("account_id")
    return list(Project.objects.filter(billing_account__in=accounts).values_list("pk", flat=True))


def usage_rate_period(*, period_start: dt.date) -> dict[str, int]:
    """Price a month's usage into RatedUsage, replacing what was rated before.

    Projects whose statement for the month has been issued are left alone: issued
    numbers never change (corrections are credit notes). Same usage, same rows.
    """
    from billing.models import Statement

    period_start = period_start.replace(day=1)
    issued = _issued_projects(period_start)
    lines = rating_lines(period_start=period_start, exclude_projects=issued)
    rows = [rated_usage_row(period_start, line) for line in lines]
    with transaction.atomic():
        Statement.objects.filter(period_start=period_start, status=Statement.Status.DRAFT).delete()
        RatedUsage.objects.filter(period_start=period_start).exclude(project_id__in=issued).delete()
        RatedUsage.objects.bulk_create(rows, batch_size=2000)
    unpriced = sum(1 for line in lines if not line.priced)
    return {"rated": len(lines) - unpriced, "unpriced": unpriced}


def rated_usage_row(period_start: dt.date, line: Line) -> RatedUsage:
    """A rated line as the RatedUsage row rating stores (and a correction compares, unsaved)."""
    return RatedUsage(
        period_start=period_start,
        project_id=line.project,
        metric=line.metric,
        price_key=line.price_key,
        description=line.description[:255],
        quantity=line.quantity,
        unit=line.unit,
        unit_price=line.unit_price,
        amount=line.amount,
        currency=line.currency or "XXX",
        rate_version_id=line.version_id,
        segment_start=line.start,
        segment_end=line.end,
        tier=line.tier,
        contract_id=line.contract_id,
        discount_percent=line.discount_percent,
        list_unit_price=line.list_unit_price,
    )
