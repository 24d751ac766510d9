"""Rate rules as plain data, and which rule prices a piece of usage."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from rating.pricing.tiers import Tier, TierError, tiers_validate

PER_UNIT, GRADUATED, VOLUME_TIERS, FLAT = "per_unit", "graduated", "volume", "flat"
MODELS = (PER_UNIT, GRADUATED, VOLUME_TIERS, FLAT)
PRICE, SURCHARGE = "price", "surcharge"
ANY_KEY = "*"
# Metrics an instance's flavor already includes; billed only for flavors priced by composition.
COMPONENTS = ("vcpu", "memory", "disk.root", "disk.ephemeral")
COMPOSERS = ("vcpu", "memory")


class RuleError(ValueError):
    pass


@dataclass(frozen=True)
class RateRule:
    """The price of a metric's usage whose price key (and attributes, if `match`) match.

    match: attribute -> accepted values (any one of them), e.g. {"os_distro": ("rhel",)}.
    per_month: the price is per unit-month (GiB-month), prorated by the second over the month.
    """

    id: int
    metric: str
    price_key: str = ""
    unit_price: Decimal = Decimal(0)
    model: str = PER_UNIT
    kind: str = PRICE
    match: tuple[tuple[str, tuple[str, ...]], ...] = ()
    per_month: bool = False
    tiers: tuple[Tier, ...] = ()
    minimum: Decimal | None = None
    label: str = ""

    def matches(self, metric: str, price_key: str, attrs: dict[str, str | None]) -> bool:
        if metric != self.metric or (self.price_key != ANY_KEY and self.price_key != price_key):
            return False
        return all(attrs.get(name) in values for name, values in self.match)

    @property
    def specificity(self) -> tuple[int, int, int]:
        # More attribute conditions first (a stopped-instance rate beats the flavor price),
        # then an exact key over the wildcard; the lower id breaks ties deterministically.
        return (len(self.match), int(self.price_key != ANY_KEY), -self.id)


def rule_validate(rule: RateRule) -> None:
    where = f"{rule.metric} {rule.price_key}".strip()
    if rule.model not in MODELS:
        raise RuleError(f"{where}: unknown pricing model {rule.model!r} (one of {', '.join(MODELS)})")
    if rule.kind not in (PRICE, SURCHARGE):
        raise RuleError(f"{where}: unknown kind {rule.kind!r}")
    if rule.unit_price < 0:
        raise RuleError(f"{where}: a price cannot be negative ({rule.unit_price})")
    if rule.minimum is not None and rule.minimum < 0:
        raise RuleError(f"{where}: a minimum charge cannot be negative ({rule.minimum})")
    if rule.model in (GRADUATED, VOLUME_TIERS):
        try:
            tiers_validate(list(rule.tiers))
        except TierError as exc:
            raise RuleError(f"{where}: {exc}") from None
    elif rule.tiers:
        raise RuleError(f"{where}: tiers are only for graduated or volume pricing")
    if rule.kind == SURCHARGE and (not rule.match or rule.model != PER_UNIT):
        raise RuleError(f"{where}: a surcharge is a per-unit price with attributes to match (e.g. an image)")


def rules_validate(rules: Iterable[RateRule]) -> None:
    seen: set[tuple] = set()
    for rule in rules:
        rule_validate(rule)
        key = (rule.metric, rule.price_key, rule.kind, rule.match)
        if key in seen:
            raise RuleError(f"{rule.metric} {rule.price_key}: two prices for the same usage")
        seen.add(key)


@dataclass(frozen=True)
class PriceList:
    """One published (or draft) rate card version, as plain data."""

    version_id: int | None
    label: str
    currency: str
    rules: tuple[RateRule, ...] = field(default=())

    def price_rule(self, metric: str, price_key: str, attrs: dict[str, str | None]) -> RateRule | None:
        found = [r for r in self.rules if r.kind == PRICE and r.matches(metric, price_key, attrs)]
        return max(found, key=lambda r: r.specificity, default=None)

    def surcharges(self, metric: str, price_key: str, attrs: dict[str, str | None]) -> list[RateRule]:
        return sorted((r for r in self.rules if r.kind == SURCHARGE and r.matches(metric, price_key, attrs)), key=_id)

    def flavor_priced(self, flavor: str) -> bool:
        """An explicit per-flavor price (not attribute-specific rates such as a stopped rate)."""
        return any(
            r.kind == PRICE and r.metric == "instance" and not r.match and r.price_key in (flavor, ANY_KEY)
            for r in self.rules
        )

    def composes(self) -> bool:
        return any(r.kind == PRICE and r.metric in COMPOSERS for r in self.rules)

    def prices_metric(self, metric: str) -> bool:
        return any(r.metric == metric for r in self.rules)

    def attribute_names(self) -> dict[str, set[str]]:
        """attribute -> metrics whose rules look at it: what rating must group usage by."""
        names: dict[str, set[str]] = {}
        for rule in self.rules:
            for name, _ in rule.match:
                names.setdefault(name, set()).add(rule.metric)
        return names


def _id(rule: RateRule) -> int:
    return rule.id
