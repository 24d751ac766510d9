"""Price a month's aggregated usage: segments, contracts, tiers, fees, minimums, discounts.

Input is what the database aggregated (one quantity per segment, project, metric, price
key and the attributes rules look at), never individual usage rows; output is the rated
lines, each with its own unrounded amount. Deterministic: same input, same lines.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field, replace
from decimal import Decimal

from rating.pricing.money import SUBCENT
from rating.pricing.rules import (
    COMPONENTS,
    FLAT,
    GRADUATED,
    PER_UNIT,
    VOLUME_TIERS,
    PriceList,
    RateRule,
)
from rating.pricing.tiers import graduated_split, volume_tier

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Aggregate:
    segment: int
    project: int
    metric: str
    price_key: str
    unit: str
    quantity: Decimal
    attrs: tuple[tuple[str, str | None], ...] = ()


@dataclass(frozen=True)
class Terms:
    """A contract: price overrides ((metric, price key) -> unit price) and a percentage discount."""

    contract_id: int
    discount_percent: Decimal = Decimal(0)
    overrides: tuple[tuple[tuple[str, str], Decimal], ...] = ()

    def override(self, metric: str, price_key: str) -> Decimal | None:
        return dict(self.overrides).get((metric, price_key))


@dataclass(frozen=True)
class Segment:
    start: dt.datetime
    end: dt.datetime
    prices: PriceList | None


@dataclass
class Line:
    project: int
    metric: str
    price_key: str
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal | None
    amount: Decimal | None
    currency: str | None
    version_id: int | None
    start: dt.datetime
    end: dt.datetime
    tier: int | None = None
    contract_id: int | None = None
    discount_percent: Decimal = Decimal(0)
    list_unit_price: Decimal | None = None

    @property
    def priced(self) -> bool:
        return self.amount is not None


@dataclass
class _Run:
    """Consecutive segments of one project with the same price list and contract."""

    start: dt.datetime
    end: dt.datetime
    prices: PriceList | None
    terms: Terms | None
    segments: set[int] = field(default_factory=set)


@dataclass
class _Item:
    run: int
    project: int
    metric: str
    price_key: str
    unit: str
    rule: RateRule | None
    quantity: Decimal = Decimal(0)


def price_period(
    *,
    aggregates: list[Aggregate],
    segments: list[Segment],
    terms: dict[tuple[int, int], Terms],
    month_start: dt.datetime,
    month_end: dt.datetime,
) -> list[Line]:
    """Lines for a month. terms: (project, segment index) -> the contract in force there."""
    month_hours = Decimal((month_end - month_start) // dt.timedelta(seconds=1)) / 3600
    runs = _runs(aggregates, segments, terms)
    items = _items(aggregates, runs)
    lines: list[Line] = []
    used: dict[tuple, Decimal] = defaultdict(Decimal)
    totals: dict[tuple, Decimal] = defaultdict(Decimal)
    for item in items.values():
        totals[(item.project, item.metric, item.price_key)] += item.quantity
    for key in sorted(items, key=_item_order):
        item = items[key]
        run = runs[item.project][item.run]
        lines += _price_item(item, run, month_hours, used, totals)
    lines += _minimums(lines, items)
    return sorted(lines, key=lambda x: (x.project, x.metric, x.price_key, x.start, x.tier or 0, x.description))


def _runs(aggregates, segments, terms) -> dict[int, list[_Run]]:
    runs: dict[int, list[_Run]] = {}
    for project in sorted({a.project for a in aggregates}):
        mine: list[_Run] = []
        for i, seg in enumerate(segments):
            contract = terms.get((project, i))
            last = mine[-1] if mine else None
            if last and last.prices == seg.prices and last.terms == contract and last.end == seg.start:
                last.end = seg.end
                last.segments.add(i)
            else:
                mine.append(_Run(seg.start, seg.end, seg.prices, contract, {i}))
        runs[project] = mine
    return runs


def _run_of(runs: list[_Run], segment: int) -> int:
    return next(i for i, run in enumerate(runs) if segment in run.segments)


def _items(aggregates: list[Aggregate], runs: dict[int, list[_Run]]) -> dict[tuple, _Item]:
    """Map each aggregate onto the rules that price it, summing what lands on the same line."""
    items: dict[tuple, _Item] = {}

    def add(run, agg, key, rule, unit=None):
        k = (agg.project, run, agg.metric, key, rule.id if rule else None, unit or agg.unit)
        item = items.setdefault(k, _Item(run, agg.project, agg.metric, key, unit or agg.unit, rule))
        item.quantity += agg.quantity

    composed: set[tuple[int, int, str]] = set()  # (project, run, flavor) priced from its components
    for agg in aggregates:
        if agg.quantity == 0:
            continue
        run_index = _run_of(runs[agg.project], agg.segment)
        prices = runs[agg.project][run_index].prices
        attrs = dict(agg.attrs)
        if agg.metric in COMPONENTS:
            # A component is billed only for a flavor without a price and only by a rate for it; the
            # instance hours report any flavor that ends up with no price at all.
            flavor = agg.price_key or attrs.get("flavor_name") or ""
            rule = prices.price_rule(agg.metric, agg.price_key, attrs) if prices else None
            if rule is not None and not prices.flavor_priced(flavor):  # type: ignore[union-attr]
                add(run_index, agg, agg.price_key, rule)
                composed.add((agg.project, run_index, flavor))
            continue
        if prices is None:
            add(run_index, agg, agg.price_key, None)
            continue
        rule = prices.price_rule(agg.metric, agg.price_key, attrs)
        if not (agg.metric == "instance" and rule is None and prices.composes()):
            add(run_index, agg, agg.price_key, rule)
        for surcharge in prices.surcharges(agg.metric, agg.price_key, attrs):
            add(run_index, agg, f"licence:{surcharge.label or surcharge.id}", surcharge)
    # A flavor left to composition with no vCPU or RAM usage to price it by is unpriced, never free.
    for agg in aggregates:
        if agg.metric == "instance" and agg.quantity:
            run_index = _run_of(runs[agg.project], agg.segment)
            prices = runs[agg.project][run_index].prices
            if (
                prices is not None
                and prices.price_rule("instance", agg.price_key, dict(agg.attrs)) is None
                and prices.composes()
                and (agg.project, run_index, agg.price_key) not in composed
            ):
                add(run_index, agg, agg.price_key, None)
    return items


def _item_order(key: tuple) -> tuple:
    project, run, metric, price_key, rule_id, unit = key
    return (project, run, metric, price_key, rule_id or 0, unit)


def _price_item(item: _Item, run: _Run, month_hours: Decimal, used: dict, totals: dict) -> list[Line]:
    base = Line(
        project=item.project,
        metric=item.metric,
        price_key=item.price_key,
        description=_describe(item),
        quantity=item.quantity.quantize(SUBCENT),
        unit=item.unit,
        unit_price=None,
        amount=None,
        currency=run.prices.currency if run.prices else None,
        version_id=run.prices.version_id if run.prices else None,
        start=run.start,
        end=run.end,
    )
    rule = item.rule
    if rule is None:
        base.version_id = None
        return [base]
    terms = run.terms
    override = terms.override(item.metric, item.price_key) if terms else None
    discount = terms.discount_percent if terms else Decimal(0)
    contract = terms.contract_id if terms else None
    scale = month_hours if rule.per_month else Decimal(1)
    unit = _month_unit(item.unit) if rule.per_month else item.unit
    key = (item.project, item.metric, item.price_key)
    if override is not None or rule.model == PER_UNIT:
        parts = [(None, item.quantity, override if override is not None else rule.unit_price)]
    elif rule.model == GRADUATED:
        lo = used[key]
        parts = [(t, q, p) for t, q, p in graduated_split(lo / scale, (lo + item.quantity) / scale, list(rule.tiers))]
        parts = [(t, q * scale, p) for t, q, p in parts]
    elif rule.model == VOLUME_TIERS:
        tier, price = volume_tier(totals[key] / scale, list(rule.tiers))
        parts = [(tier, item.quantity, price)]
    elif rule.model == FLAT:
        fraction = Decimal((run.end - run.start) // dt.timedelta(seconds=1)) / 3600 / month_hours
        return [_line(base, rule.unit_price, fraction, Decimal(1), "month", None, discount, contract, "monthly fee")]
    used[key] += item.quantity
    return [_line(base, p, q, scale, unit, t, discount, contract) for t, q, p in parts if q > 0]


def _line(base, price, quantity, scale, unit, tier, discount, contract, note="") -> Line:
    net = price * (HUNDRED - discount) / HUNDRED
    line = replace(
        base,
        quantity=(quantity / scale).quantize(SUBCENT),
        unit=unit,
        unit_price=net.quantize(SUBCENT),
        list_unit_price=price,
        amount=(quantity * net / scale).quantize(SUBCENT),
        tier=None if tier is None else tier + 1,
        contract_id=contract,
        discount_percent=discount,
    )
    extras = [note] if note else []
    if tier is not None:
        extras.append(f"tier {tier + 1}")
    if discount:
        extras.append(f"{discount.normalize():f}% discount")
    if extras:
        line.description = f"{line.description} ({', '.join(extras)})"
    return line


def _minimums(lines: list[Line], items: dict[tuple, _Item]) -> list[Line]:
    """A minimum monthly charge tops a (project, metric, price key) up to the minimum of its latest price."""
    minimum: dict[tuple, tuple[int, _Item]] = {}
    for item in items.values():
        if item.rule is not None and item.rule.minimum is not None:
            key = (item.project, item.metric, item.price_key)
            if key not in minimum or item.run > minimum[key][0]:
                minimum[key] = (item.run, item)
    out = []
    for key, (_, item) in sorted(minimum.items()):
        mine = [x for x in lines if x.priced and (x.project, x.metric, x.price_key) == key]
        charged = sum((x.amount for x in mine), Decimal(0))
        floor = item.rule.minimum  # type: ignore[union-attr]
        if not mine or charged >= floor:
            continue
        gap = (floor - charged).quantize(SUBCENT)
        last = max(mine, key=lambda x: x.start)
        out.append(
            replace(
                last,
                description=f"{_describe(item)} (minimum monthly charge)",
                quantity=Decimal(1),
                unit="month",
                unit_price=gap,
                list_unit_price=gap,
                amount=gap,
                tier=None,
                discount_percent=Decimal(0),
                contract_id=None,
            )
        )
    return out


SERVICE_NAMES = {
    "instance": "Instance hours",
    "vcpu": "vCPU hours",
    "memory": "RAM GiB-hours",
    "disk.root": "Root disk GiB-hours",
    "disk.ephemeral": "Ephemeral disk GiB-hours",
    "volume": "Volume",
    "snapshot": "Snapshots",
    "image": "Image storage",
    "floating_ip": "Floating IP hours",
    "network.egress": "Egress traffic",
    "network.ingress": "Ingress traffic",
    "object_storage": "Object storage",
}


def _describe(item: _Item) -> str:
    if item.rule is not None and item.rule.kind == "surcharge":
        return f"Licence surcharge {item.rule.label}".strip() + " (per instance-hour)"
    name = SERVICE_NAMES.get(item.metric, item.metric)
    if item.rule is not None and item.rule.label:
        return f"{name} {item.rule.label}"
    return f"{name} {item.price_key}".strip()


def _month_unit(unit: str) -> str:
    return unit[: -len("hour")] + "month" if unit.endswith("hour") else f"{unit}-month"
