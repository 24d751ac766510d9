"""What a set of resources would cost per hour and per month, before anything is deployed."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from rating.pricing.money import round_money
from rating.pricing.rules import FLAT, GRADUATED, VOLUME_TIERS, PriceList, RateRule

# A quoted month is the average month (8760 h / 12), as cloud price lists do.
HOURS_PER_MONTH = Decimal(730)


@dataclass(frozen=True)
class QuoteLine:
    description: str
    hourly: Decimal | None  # None: no price applies
    monthly_fee: Decimal = Decimal(0)


@dataclass(frozen=True)
class Quote:
    currency: str
    version: str
    lines: tuple[QuoteLine, ...] = field(default=())

    @property
    def unpriced(self) -> list[str]:
        return [line.description for line in self.lines if line.hourly is None]

    @property
    def hourly(self) -> Decimal:
        return sum((line.hourly or Decimal(0) for line in self.lines), Decimal(0))

    @property
    def monthly(self) -> Decimal:
        fees = sum((line.monthly_fee for line in self.lines), Decimal(0))
        return round_money(self.hourly * HOURS_PER_MONTH + fees, self.currency)


def _hourly(rule: RateRule) -> tuple[Decimal, Decimal]:
    """(price per unit-hour, monthly fee); tiers quote their first tier, the price of the first unit."""
    if rule.model == FLAT:
        return Decimal(0), rule.unit_price
    price = rule.tiers[0].unit_price if rule.model in (GRADUATED, VOLUME_TIERS) else rule.unit_price
    return (price / HOURS_PER_MONTH if rule.per_month else price), Decimal(0)


def quote(
    prices: PriceList,
    *,
    flavor: str,
    vcpus: int = 0,
    ram_gib: Decimal = Decimal(0),
    image: dict[str, str | None] | None = None,
    volume_type: str = "",
    volume_gib: Decimal = Decimal(0),
    floating_ips: int = 0,
) -> Quote:
    attrs = {"flavor_name": flavor, **(image or {})}
    lines = [_instance(prices, flavor, vcpus, Decimal(ram_gib), attrs)]
    for rule in prices.surcharges("instance", flavor, attrs):
        lines.append(QuoteLine(f"Licence surcharge {rule.label}".strip(), _hourly(rule)[0]))
    if volume_gib:
        lines.append(
            _priced(prices, "volume", volume_type, Decimal(volume_gib), f"Volume {volume_type} {volume_gib} GiB")
        )
    if floating_ips:
        lines.append(_priced(prices, "floating_ip", "", Decimal(floating_ips), f"{floating_ips} floating IP(s)"))
    return Quote(prices.currency, prices.label, tuple(lines))


def _priced(prices: PriceList, metric: str, key: str, units: Decimal, description: str) -> QuoteLine:
    rule = prices.price_rule(metric, key, {})
    if rule is None:
        return QuoteLine(description, None)
    hourly, fee = _hourly(rule)
    return QuoteLine(description, hourly * units, fee)


def _instance(prices: PriceList, flavor: str, vcpus: int, ram_gib: Decimal, attrs: dict) -> QuoteLine:
    rule = prices.price_rule("instance", flavor, attrs)
    if rule is not None:
        hourly, fee = _hourly(rule)
        return QuoteLine(f"Instance {flavor}", hourly, fee)
    cpu, ram = prices.price_rule("vcpu", flavor, {}), prices.price_rule("memory", flavor, {})
    if not prices.composes() or (vcpus and cpu is None) or (ram_gib and ram is None):
        return QuoteLine(f"Instance {flavor}", None)
    hourly = (_hourly(cpu)[0] * vcpus if cpu else 0) + (_hourly(ram)[0] * ram_gib if ram else 0)
    return QuoteLine(f"Instance {flavor} ({vcpus} vCPU, {ram_gib} GiB RAM)", Decimal(hourly))
