"""Quotes (price before deploying) and what-if (a draft's effect on a past month)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from rating.models import RateCardVersion
from rating.pricing.money import round_money
from rating.pricing.quote import Quote, quote
from rating.rate_cards import RateCardError
from rating.rating import price_list_of, rate_card_version_for, rating_lines


def quote_price(
    *,
    flavor: str,
    vcpus: int = 0,
    ram_gib: Decimal | int = 0,
    image: dict[str, str | None] | None = None,
    volume_type: str = "",
    volume_gib: Decimal | int = 0,
    floating_ips: int = 0,
    on: dt.date | None = None,
) -> Quote:
    """Hourly and monthly price from the published rate card in effect today (or on `on`)."""
    version = rate_card_version_for(period_start=on or timezone.localdate())
    if version is None:
        raise RateCardError("no published rate card is in effect: nothing can be quoted")
    return quote(
        price_list_of(version),
        flavor=flavor,
        vcpus=vcpus,
        ram_gib=Decimal(ram_gib),
        image=image,
        volume_type=volume_type,
        volume_gib=Decimal(volume_gib),
        floating_ips=floating_ips,
    )


@dataclass(frozen=True)
class WhatIf:
    project_id: int
    current: Decimal
    draft: Decimal
    unpriced_now: int
    unpriced_draft: int

    @property
    def difference(self) -> Decimal:
        return self.draft - self.current


def rate_card_what_if(*, version: RateCardVersion, period_start: dt.date) -> list[WhatIf]:
    """Per project: a past month priced as it is and as `version` would price it; nothing is written."""
    now = _totals(rating_lines(period_start=period_start))
    then = _totals(rating_lines(period_start=period_start, draft=version))
    out = []
    for project in sorted(set(now) | set(then)):
        (a, ua), (b, ub) = now.get(project, (Decimal(0), 0)), then.get(project, (Decimal(0), 0))
        out.append(WhatIf(project, a, b, ua, ub))
    return out


def _totals(lines) -> dict[int, tuple[Decimal, int]]:
    # Rounded per line, as a statement would be, so the difference is what an invoice would show.
    totals: dict[int, list] = defaultdict(lambda: [Decimal(0), 0])
    for line in lines:
        if line.priced:
            totals[line.project][0] += round_money(line.amount, line.currency)
        else:
            totals[line.project][1] += 1
    return {p: (t[0], t[1]) for p, t in totals.items()}
