"""Rate cards: drafts, validation, publishing, history. Re-exported by rating.services."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from rating.models import Rate, RateCard, RateCardEvent, RateCardVersion, RateTier
from rating.pricing.rules import RateRule, RuleError, rules_validate
from rating.pricing.tiers import Tier


class RateCardError(ValueError):
    """Bad rate card input; the message says what and where."""


@dataclass(frozen=True)
class RateSpec:
    """One price as an admin states it; see rating.models.Rate for the meaning of each field."""

    metric: str
    price_key: str = ""
    unit_price: Decimal = Decimal(0)
    model: str = Rate.Model.PER_UNIT
    kind: str = Rate.Kind.PRICE
    match: dict[str, list[str]] = field(default_factory=dict)
    per_month: bool = False
    tiers: tuple[tuple[Decimal, Decimal | None, Decimal], ...] = ()  # (start, end or None, unit price)
    minimum: Decimal | None = None
    label: str = ""


def rate_rule_of(spec: RateSpec | Rate, rule_id: int = 0, tiers: Iterable[Tier] | None = None) -> RateRule:
    if isinstance(spec, Rate):
        tiers = tiers if tiers is not None else [Tier(t.start, t.end, t.unit_price) for t in spec.tiers.all()]
    else:
        tiers = [Tier(Decimal(a), None if b is None else Decimal(b), Decimal(p)) for a, b, p in spec.tiers]
    return RateRule(
        id=rule_id,
        metric=spec.metric,
        price_key=spec.price_key,
        unit_price=Decimal(spec.unit_price),
        model=str(spec.model),
        kind=str(spec.kind),
        match=tuple(sorted((k, tuple(str(v) for v in _as_list(vs))) for k, vs in (spec.match or {}).items())),
        per_month=spec.per_month,
        tiers=tuple(tiers),
        minimum=None if spec.minimum is None else Decimal(spec.minimum),
        label=spec.label,
    )


def _as_list(values) -> list:
    return list(values) if isinstance(values, list | tuple | set) else [values]


def _specs(prices: dict[tuple[str, str], Decimal] | None, rates: Iterable[RateSpec]) -> list[RateSpec]:
    specs = [RateSpec(metric=m, price_key=k, unit_price=Decimal(p)) for (m, k), p in (prices or {}).items()]
    return specs + list(rates)


def rate_specs_validate(*, specs: list[RateSpec]) -> None:
    try:
        rules_validate(rate_rule_of(spec, i) for i, spec in enumerate(specs, start=1))
    except RuleError as exc:
        raise RateCardError(str(exc)) from None


def _event(card: RateCard, version: RateCardVersion | None, action: str, user, reason: str, **details) -> None:
    RateCardEvent.objects.create(
        card=card, version=version, action=action, actor=user, reason=reason, details=_jsonable(details)
    )


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal | dt.date):
        return str(value)
    return value


def rate_card_create(*, name: str, currency: str, user=None, reason: str = "", description: str = "") -> RateCard:
    currency = currency.upper()
    if len(currency) != 3 or not currency.isalpha():
        raise RateCardError(f"{currency!r} is not an ISO 4217 currency code")
    with transaction.atomic():
        card = RateCard.objects.create(name=name, currency=currency, description=description)
        _event(card, None, "created", user, reason, currency=currency)
    return card


def rate_card_version_draft(
    *,
    card: RateCard,
    effective_from: dt.date,
    effective_to: dt.date | None = None,
    prices: dict[tuple[str, str], Decimal] | None = None,
    rates: Iterable[RateSpec] = (),
    copy_from: RateCardVersion | None = None,
    user=None,
    reason: str = "",
) -> RateCardVersion:
    """A new draft version; editing a published version means drafting its successor (copy_from)."""
    specs = _specs(prices, rates)
    if copy_from is not None:
        specs = [_spec_of(rate) for rate in copy_from.rates.prefetch_related("tiers")] + specs
    _check_dates(effective_from, effective_to)
    rate_specs_validate(specs=specs)
    with transaction.atomic():
        RateCard.objects.select_for_update().get(pk=card.pk)
        number = (card.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
        version = RateCardVersion.objects.create(
            card=card,
            number=number,
            effective_from=effective_from,
            effective_to=effective_to,
            created_by=user,
            note=reason,
        )
        _rates_create(version, specs)
        _event(card, version, "drafted", user, reason, effective_from=effective_from, rates=len(specs))
    return version


def _check_dates(effective_from: dt.date, effective_to: dt.date | None) -> None:
    if effective_to is not None and effective_to < effective_from:
        raise RateCardError(f"effective-to {effective_to} is before effective-from {effective_from}")


def _spec_of(rate: Rate) -> RateSpec:
    return RateSpec(
        metric=rate.metric,
        price_key=rate.price_key,
        unit_price=rate.unit_price,
        model=rate.model,
        kind=rate.kind,
        match=rate.match,
        per_month=rate.per_month,
        tiers=tuple((t.start, t.end, t.unit_price) for t in rate.tiers.all()),
        minimum=rate.minimum,
        label=rate.label,
    )


def _rates_create(version: RateCardVersion, specs: list[RateSpec]) -> None:
    for spec in specs:
        rate = Rate.objects.create(
            version=version,
            metric=spec.metric,
            price_key=spec.price_key,
            kind=spec.kind,
            model=spec.model,
            unit_price=Decimal(spec.unit_price),
            per_month=spec.per_month,
            match={k: [str(v) for v in _as_list(vs)] for k, vs in spec.match.items()},
            minimum=spec.minimum,
            label=spec.label,
        )
        RateTier.objects.bulk_create([RateTier(rate=rate, start=a, end=b, unit_price=p) for a, b, p in spec.tiers])


def rate_card_version_rates_set(
    *, version: RateCardVersion, rates: Iterable[RateSpec] = (), prices=None, user=None, reason: str = ""
) -> RateCardVersion:
    """Replace a draft's prices; a published version refuses (the database too)."""
    specs = _specs(prices, rates)
    rate_specs_validate(specs=specs)
    with transaction.atomic():
        version = RateCardVersion.objects.select_for_update().get(pk=version.pk)
        if version.status != RateCardVersion.Status.DRAFT:
            raise RateCardError(f"{version} is published and cannot change; draft a new version instead")
        RateTier.objects.filter(rate__version=version).delete()
        version.rates.all().delete()
        _rates_create(version, specs)
        _event(version.card, version, "rates changed", user, reason, rates=len(specs))
    return version


def rate_card_version_publish(
    *, version: RateCardVersion, user=None, reason: str = "", backdate: bool = False, today: dt.date | None = None
) -> RateCardVersion:
    """Publish a draft. A date in the past is refused unless backdate (an initial import, say), recorded."""
    today = today or timezone.localdate()
    with transaction.atomic():
        version = RateCardVersion.objects.select_for_update().select_related("card").get(pk=version.pk)
        if version.status != RateCardVersion.Status.DRAFT:
            raise RateCardError(f"{version} is already published")
        if version.effective_from < today and not backdate:
            raise RateCardError(
                f"{version} would take effect on {version.effective_from}, in the past: prices already rated "
                f"would change. Choose {today} or later (or backdate explicitly, with a reason)"
            )
        rules = [rate_rule_of(rate, rate.pk) for rate in version.rates.prefetch_related("tiers")]
        if not rules:
            raise RateCardError(f"{version} has no prices")
        try:
            rules_validate(rules)
        except RuleError as exc:
            raise RateCardError(str(exc)) from None
        version.status, version.published_by, version.published_at = "published", user, timezone.now()
        version.save(update_fields=["status", "published_by", "published_at"])
        _event(version.card, version, "published", user, reason, backdated=backdate and version.effective_from < today)
    return version


def rate_card_publish(
    *,
    name: str,
    currency: str,
    effective_from: dt.date,
    prices: dict[tuple[str, str], Decimal] | None = None,
    rates: Iterable[RateSpec] = (),
    effective_to: dt.date | None = None,
    user=None,
    note: str = "",
    backdate: bool = False,
) -> RateCardVersion:
    """Draft and publish a version of a rate card (created if new) in one go.

    prices: (metric, price key) -> unit price, for plain per-unit prices; rates: anything richer.
    """
    currency = currency.upper()
    specs = _specs(prices, rates)
    rate_specs_validate(specs=specs)  # before anything is written: bad input leaves no trace
    with transaction.atomic():
        card = RateCard.objects.filter(name=name).first() or rate_card_create(
            name=name, currency=currency, user=user, reason=note
        )
        if card.currency != currency:
            raise RateCardError(f"rate card {name} is priced in {card.currency}, not {currency}")
        version = rate_card_version_draft(
            card=card, effective_from=effective_from, effective_to=effective_to, rates=specs, user=user, reason=note
        )
        return rate_card_version_publish(version=version, user=user, reason=note, backdate=backdate)
