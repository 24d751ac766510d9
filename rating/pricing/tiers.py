"""Tiered prices: graduated (each tier's units at its own price) and volume (all units at the reached tier)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


class TierError(ValueError):
    pass


@dataclass(frozen=True)
class Tier:
    """Units in [start, end) at unit_price; end None means no upper bound."""

    start: Decimal
    end: Decimal | None
    unit_price: Decimal


def tiers_validate(tiers: list[Tier]) -> None:
    """Tiers must start at 0, follow each other with no gap or overlap, and end open."""
    if not tiers:
        raise TierError("a tiered price needs at least one tier")
    expected = Decimal(0)
    for i, tier in enumerate(tiers, start=1):
        if tier.unit_price < 0:
            raise TierError(f"tier {i}: a unit price cannot be negative ({tier.unit_price})")
        if tier.start != expected:
            what = "overlaps the previous tier" if tier.start < expected else "leaves a gap after the previous tier"
            raise TierError(f"tier {i} starts at {tier.start} and {what}, which ends at {expected}")
        if tier.end is None:
            if i != len(tiers):
                raise TierError(f"tier {i} is open-ended but is not the last tier")
            return
        if tier.end <= tier.start:
            raise TierError(f"tier {i} ends at {tier.end}, not after its start {tier.start}")
        expected = tier.end
    raise TierError(f"the last tier must be open-ended (it ends at {expected}; usage above would have no price)")


def graduated_split(lo: Decimal, hi: Decimal, tiers: list[Tier]) -> list[tuple[int, Decimal, Decimal]]:
    """Split the units [lo, hi) of a cumulative quantity over the tiers: (tier index, units, unit price).

    lo is what earlier segments of the month already used, so a mid-month price change
    continues up the tiers instead of starting again at the bottom.
    """
    parts = []
    for i, tier in enumerate(tiers):
        top = hi if tier.end is None else min(hi, tier.end)
        units = top - max(lo, tier.start)
        if units > 0:
            parts.append((i, units, tier.unit_price))
    return parts


def volume_tier(total: Decimal, tiers: list[Tier]) -> tuple[int, Decimal]:
    """The tier the month's total reaches, whose price applies to all units."""
    for i, tier in enumerate(tiers):
        if tier.end is None or total < tier.end:
            return i, tier.unit_price
    raise TierError("tiers do not cover the quantity")  # unreachable for validated tiers
