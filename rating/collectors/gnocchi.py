"""Usage from Gnocchi, where Ceilometer publishes it.

Quantities that a resource's lifespan determines (instance hours per flavor,
vCPU/RAM/disk/volume/image GiB-hours, floating-IP hours) are computed from the
exact revision boundaries Gnocchi keeps, not by counting 5-minute samples: the
aggregates API, with use_history and the lifespan attributes in the groupby,
returns one group per resource revision, so one HTTP call per meter and window
covers the whole cloud whatever its number of projects or resources.
Counters (network bytes) are exact sums of their rate:mean points; sampled
gauges (object storage) are time-weighted samples, within one polling interval.
"""

from __future__ import annotations

import collections
import datetime as dt
import logging
import math
import random
import time
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal

from gnocchiclient import exceptions as gexc

from rating.collectors.base import ProjectInfo, Rejected, SourceUnavailable, UsageInterval, overlap
from rating.collectors.meters import DEFAULT_METERS, LIFESPAN, LIFESPAN_SIZE, SUM, MeterSpec
from rating.pricing import seconds_to_hours

log = logging.getLogger(__name__)

LIFESPAN_GROUPBY = ["id", "project_id", "started_at", "ended_at", "revision_start", "revision_end"]
# Samples are only used to find which resources lived in a window and their size;
# a margin of two polling intervals catches a resource whose nearest sample falls outside it.
MARGIN = dt.timedelta(seconds=600)
DAY = 86400
# Only the groups matter, so resample to few points per resource; a gauge's value is read
# from hourly points, so that only the hour holding a revision boundary is ambiguous.
LIFESPAN_OP = "(aggregate max (resample max 86400 (metric {metric} {agg})))"
SIZE_OP = "(aggregate max (resample max 3600 (metric {metric} {agg})))"
# Hourly sums keep the payload small and still show a counter reset (a negative hour).
SUM_OP = "(aggregate sum (resample sum 3600 (metric {metric} {agg})))"
GRANULARITY = 300
RETRYABLE = (gexc.ConnectionFailure, gexc.ConnectionTimeout)


def _ts(value: str | dt.datetime | None) -> dt.datetime | None:
    if not value:
        return None
    parsed = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def started_hours(lo: dt.datetime, hi: dt.datetime) -> Decimal:
    """Clock hours [h, h+1) that [lo, hi) touches: what "every started hour in full" bills."""
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    first = (lo - epoch) // dt.timedelta(hours=1)
    last = math.ceil((hi - epoch) / dt.timedelta(hours=1))
    return Decimal(last - first)


class GnocchiSource:
    name = "gnocchi"

    def __init__(
        self,
        *,
        endpoint: str,
        user: str = "admin",
        auth: str = "basic",
        timeout: int = 60,
        meters: Sequence[MeterSpec] = DEFAULT_METERS,
        retries: int = 3,
        backoff: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.endpoint, self.timeout, self.meters = endpoint, timeout, tuple(meters)
        self.retries, self.backoff, self._sleep = retries, backoff, sleep
        self._client = _make_client(endpoint=endpoint, user=user, auth=auth, timeout=timeout)
        self.requests = 0
        self.rejected: list[Rejected] = []

    def projects(self) -> list[ProjectInfo]:
        return []  # names come from Keystone; Gnocchi only knows ids

    def collect(self, start: dt.datetime, end: dt.datetime) -> Iterator[UsageInterval]:
        self.rejected = []
        for meter in self.meters:
            if meter.method in (LIFESPAN, LIFESPAN_SIZE):
                yield from self._lifespans(meter, start, end)
            else:
                yield from self._sums(meter, start, end)

    # -- lifespans: one group per resource revision ---------------------------------
    def _lifespans(self, meter: MeterSpec, start: dt.datetime, end: dt.datetime) -> Iterator[UsageInterval]:
        qstart, qend = start - MARGIN, end + MARGIN
        groups = self._fetch(
            meter,
            (SIZE_OP if meter.method == LIFESPAN_SIZE else LIFESPAN_OP).format(
                metric=meter.gnocchi_metric, agg=meter.aggregation
            ),
            groupby=LIFESPAN_GROUPBY + list(meter.attributes),
            start=qstart,
            end=qend,
            search=_alive_between(start, end),
            use_history=True,
        )
        groups = [(g, p) for g, p in groups if self._has_project(meter, g)]
        sizes = self._sizes(groups, qstart, qend) if meter.method == LIFESPAN_SIZE else {}
        for i, (group, _) in enumerate(groups):
            yield from self._revision(meter, group, sizes.get(i), start, end)

    def _revision(self, meter, group, size, start, end) -> Iterator[UsageInterval]:
        try:
            born = _ts(group.get("launched_at")) or _ts(group["started_at"])
            alive_from = max(born, _ts(group["revision_start"]) or born)
            ends = [t for t in (_ts(group.get("ended_at")), _ts(group.get("revision_end"))) if t]
        except (KeyError, TypeError, ValueError) as exc:
            self._reject("malformed resource", f"{meter.metric} {group!r}: {exc}")
            return
        part = overlap(alive_from, min(ends) if ends else None, start, end)
        if not part:
            return
        hours = started_hours(part[0], part[1]) if meter.bill_started_hours else seconds_to_hours(part[2])
        attrs = {a: group.get(a) for a in meter.attributes}
        quantity = hours
        if meter.method == LIFESPAN_SIZE:
            if size is None:
                self._reject("no measure of its size", f"{meter.gnocchi_metric} of {group.get('id')}")
                return
            if size < 0:
                self._reject("negative value", f"{meter.gnocchi_metric} of {group.get('id')}: {size}")
                return
            quantity = (hours * size * meter.factor).quantize(Decimal("1E-10"))
            attrs["size"] = str(size)
        key = str(group.get(meter.price_key) or "") if meter.price_key else ""
        yield UsageInterval(group["project_id"], group["id"], meter.metric, key, part[0], part[1], quantity, attrs)

    def _sizes(self, groups: list[tuple[dict, list]], qstart: dt.datetime, qend: dt.datetime) -> dict:
        """The gauge's value in each revision (by position in `groups`).

        With use_history Gnocchi multiplies every point by the share of its bucket the
        revision covers; dividing by that share gives the measured value back. But the
        5-minute bucket holding a revision boundary also holds the other revision's
        sample (a resize's new flavor lands in the old revision's last bucket), so days
        holding a boundary are not trusted. A revision with no other hour takes the
        value its flavor (or, without one, its resource) shows elsewhere in the cloud, or
        else what its boundary hour shows that its neighbouring revisions do not.
        """
        first: dict[str, str] = {}
        for group, _ in sorted(groups, key=lambda g: str(g[0].get("revision_start"))):
            first.setdefault(str(group.get("id")), str(group.get("revision_start")))
        clean: dict[int, list[Decimal]] = {}
        dirty: dict[int, list[Decimal]] = {}
        by_kind: dict[str, list[Decimal]] = collections.defaultdict(list)
        for i, (group, points) in enumerate(groups):
            is_first = first.get(str(group.get("id"))) == str(group.get("revision_start"))
            boundaries = _inner_boundaries(group, qstart, qend, is_first)
            for when, granularity, value in points:
                day = _ts(when)
                share = _coverage(group, day, float(granularity), (qstart, qend, is_first))
                if share <= 0 or day is None:
                    continue
                measured = Decimal(repr(round(value / share, 6)))
                span_end = day + dt.timedelta(seconds=float(granularity))
                if any(day <= b < span_end for b in boundaries):
                    dirty.setdefault(i, []).append(measured)
                else:
                    clean.setdefault(i, []).append(measured)
                    by_kind[_kind(group)].append(measured)
        by_resource: dict[str, set[Decimal]] = collections.defaultdict(set)
        for i, values in clean.items():
            by_resource[str(groups[i][0].get("id"))].update(values)
        sizes = {}
        for i, (group, _) in enumerate(groups):
            values = clean.get(i) or by_kind.get(_kind(group))
            if not values and dirty.get(i):
                neighbours = by_resource[str(group.get("id"))]
                values = [v for v in dirty[i] if v not in neighbours]
            if values:
                size = collections.Counter(values).most_common(1)[0][0] if i not in clean else max(values)
                sizes[i] = size.normalize() if size == size.to_integral_value() else size
        return sizes

    # -- sums: counters and samples, without history ----------------------------------
    def _sums(self, meter: MeterSpec, start: dt.datetime, end: dt.datetime) -> Iterator[UsageInterval]:
        groups = self._fetch(
            meter,
            SUM_OP.format(metric=meter.gnocchi_metric, agg=meter.aggregation),
            groupby=["id", "project_id", *meter.attributes],
            start=start,
            end=end,
            search=_alive_between(start, end),
            use_history=False,
        )
        for group, points in groups:
            if not self._has_project(meter, group):
                continue
            total, first, last = Decimal(0), None, None
            for when, granularity, value in points:
                amount = Decimal(repr(value))
                if amount < 0:
                    self._reject("negative value", f"{meter.gnocchi_metric} of {group.get('id')} at {when}: {value}")
                    continue
                total += amount
                first = first or _ts(when)
                last = _ts(when) + dt.timedelta(seconds=float(granularity))
            if first is None:
                continue
            attrs = {a: group.get(a) for a in meter.attributes}
            if meter.method == SUM:
                attrs["raw"] = str(total)  # bytes, exactly
                quantity = total * meter.factor
            else:  # samples: each 5-minute mean stands for its 300 s
                quantity = total * GRANULARITY / 3600 * meter.factor
            quantity = quantity.quantize(Decimal("1E-10"))
            yield UsageInterval(
                group["project_id"], group["id"], meter.metric, "", max(first, start), min(last, end), quantity, attrs
            )

    # -- plumbing -------------------------------------------------------------------
    def _has_project(self, meter: MeterSpec, group: dict) -> bool:
        if group.get("project_id"):
            return True
        self._reject("missing project_id", f"{meter.resource_type} {group.get('id')}")
        return False

    def _reject(self, reason: str, detail: str) -> None:
        log.warning("gnocchi: skipped a bad record (%s): %s", reason, detail)
        self.rejected.append(Rejected(reason, detail))

    def _fetch(self, meter: MeterSpec, operation: str, *, groupby, start, end, search, use_history):
        """One aggregates call for the whole cloud, retried with backoff and jitter on transient faults."""
        for attempt in range(self.retries + 1):
            self.requests += 1
            try:
                answer = self._client.aggregates.fetch(
                    operation,
                    resource_type=meter.resource_type,
                    search=search,
                    groupby=groupby,
                    granularity=GRANULARITY,
                    start=start.isoformat(),
                    stop=end.isoformat(),
                    use_history=use_history,
                )
                return _parse_groups(answer)
            except gexc.MetricNotFound:
                return []  # nothing of this kind measured in the window
            except Exception as exc:
                if _unknown_resource_type(exc):
                    self._reject("unknown resource type", f"{meter.resource_type} (for {meter.gnocchi_metric})")
                    return []
                error = self._describe(exc)
                if error is None:
                    raise
                if attempt == self.retries or not _transient(exc):
                    raise SourceUnavailable(error) from None
                delay = self.backoff * 2**attempt * (1 + random.random())
                log.warning("%s; retry %d/%d in %.1f s", error, attempt + 1, self.retries, delay)
                self._sleep(delay)
        raise AssertionError("unreachable")

    def _describe(self, exc: Exception) -> str | None:
        """What went wrong, if it is worth retrying (timeouts, refusals, 5xx, malformed answers)."""
        if isinstance(exc, gexc.ConnectionFailure):
            return f"Gnocchi at {self.endpoint} is unreachable (connection refused)"
        if isinstance(exc, gexc.ConnectionTimeout):
            return f"Gnocchi at {self.endpoint} timed out after {self.timeout} s"
        if isinstance(exc, MalformedAnswer):
            return f"Gnocchi at {self.endpoint} sent a malformed aggregates answer: {exc}"
        if isinstance(exc, gexc.ClientException):
            code = getattr(exc, "code", "?")
            return f"Gnocchi at {self.endpoint} answered HTTP {code}: {str(exc)[:200]}"
        if isinstance(exc, ValueError):  # a body that is not JSON
            return f"Gnocchi at {self.endpoint} sent a malformed aggregates answer: {str(exc)[:200]}"
        return None


class MalformedAnswer(ValueError):
    pass


def _unknown_resource_type(exc: Exception) -> bool:
    # Gnocchi 4.7 answers an aggregates call on a missing type with HTTP 400, not 404.
    return isinstance(exc, gexc.ResourceTypeNotFound) or (
        isinstance(exc, gexc.ClientException) and "Resource type does not exist" in str(exc)
    )


def _transient(exc: Exception) -> bool:
    """Worth retrying: timeouts, refusals, 5xx, 429 and malformed answers; not a 4xx, which would answer the same."""
    code = getattr(exc, "code", None)
    if isinstance(exc, gexc.ClientException) and isinstance(code, int):
        return code >= 500 or code in (408, 429)
    return True


def _parse_groups(answer) -> list[tuple[dict, list]]:
    try:
        groups = [(g["group"], g["measures"]["measures"]["aggregated"]) for g in answer]
        for group, points in groups:
            if not isinstance(group, dict) or any(len(p) != 3 for p in points):
                raise MalformedAnswer("a group without its attributes or a point without [time, granularity, value]")
        return groups
    except (KeyError, TypeError) as exc:
        raise MalformedAnswer(f"missing {exc}") from None


def _alive_between(start: dt.datetime, end: dt.datetime) -> dict:
    return {
        "and": [
            {"<": {"started_at": end.isoformat()}},
            {"or": [{"=": {"ended_at": None}}, {">=": {"ended_at": start.isoformat()}}]},
        ]
    }


def _kind(group: dict) -> str:
    """What fixes a gauge's value: the flavor for instances, else the resource itself."""
    return f"flavor:{group['flavor_id']}" if group.get("flavor_id") else f"id:{group.get('id')}"


def _inner_boundaries(group: dict, qstart: dt.datetime, qend: dt.datetime, is_first: bool) -> list[dt.datetime]:
    """Revision boundaries strictly inside the query, where two revisions share a bucket."""
    found = []
    rev_start, rev_end = _ts(group.get("revision_start")), _ts(group.get("revision_end"))
    if rev_start and not is_first and qstart < rev_start < qend:
        found.append(rev_start)
    if rev_end and qstart < rev_end < qend:
        found.append(rev_end)
    return found


def _coverage(group: dict, when: dt.datetime | None, granularity: float, query: tuple) -> float:
    """The share of the bucket [when, when + granularity) Gnocchi gave this revision.

    Mirrors gnocchi.rest.aggregates.api.Measure: a resource's first revision is
    searched from the query's start, later ones from their revision_start; all
    end at their revision_end, clipped to the query's stop.
    """
    qstart, qend, is_first = query
    if when is None or granularity <= 0:
        return 0.0
    rev_start, rev_end = _ts(group.get("revision_start")), _ts(group.get("revision_end"))
    lo = qstart if is_first or rev_start is None else max(rev_start, qstart)
    hi = min(rev_end, qend) if rev_end else qend
    bucket_end = when + dt.timedelta(seconds=granularity)
    covered = (min(hi, bucket_end) - max(lo, when)).total_seconds()
    return max(0.0, covered / granularity)


def _make_client(*, endpoint: str, user: str, auth: str, timeout: int):
    from gnocchiclient import auth as gauth
    from gnocchiclient import client as gclient

    if auth == "keystone":
        import openstack

        session = openstack.connect().session
        return gclient.Client("1", session=session, adapter_options={"endpoint_override": endpoint})
    plugin = gauth.GnocchiBasicPlugin(user=user, endpoint=endpoint)
    return gclient.Client("1", session_options={"auth": plugin, "timeout": timeout})
