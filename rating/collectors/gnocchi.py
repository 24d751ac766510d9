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
import json
import logging
import math
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from decimal import Decimal

from gnocchiclient import exceptions as gexc

from rating.collectors.base import ProjectInfo, Rejected, SourceUnavailable, UsageInterval, overlap
from rating.collectors.meters import DEFAULT_METERS, LIFESPAN, LIFESPAN_SIZE, SUM, MeterSpec
from rating.pricing import seconds_to_hours

log = logging.getLogger(__name__)

LIFESPAN_GROUPBY = ["id", "project_id", "started_at", "ended_at", "revision_start", "revision_end"]
# Samples are only used to find which resources lived in a window and their size; the
# margin catches a resource whose nearest sample falls outside it (the flavor gauges come
# from hourly compute.instance.exists notifications).
MARGIN = dt.timedelta(seconds=3900)
DAY = 86400
# Only the groups and a gauge's value matter, so resample to a point a day per resource:
# Gnocchi's cost and the payload grow with the points returned.
LIFESPAN_OP = "(aggregate max (resample max 86400 (metric {metric} {agg})))"
# Daily sums; a counter reset shows as a negative day, rejected and counted.
SUM_OP = "(aggregate sum (resample sum 86400 (metric {metric} {agg})))"
# The raw series of the few resources resized inside a window.
RAW_OP = "(aggregate max (metric {metric} {agg}))"
GRANULARITY = 300
# Where to look for a flavor's gauge values when no instance showed them in the window: the
# ceilometer-low archives keep 30 days, and a flavor's sizes are the same on every instance.
FLAVOR_LOOKAROUND = dt.timedelta(days=30)
FLAVOR_REVISIONS = 20
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
        concurrency: int = 3,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.endpoint, self.timeout, self.meters = endpoint, timeout, tuple(meters)
        self.retries, self.backoff, self._sleep = retries, backoff, sleep
        self.concurrency, self._lock = concurrency, threading.Lock()
        self._client = _make_client(endpoint=endpoint, user=user, auth=auth, timeout=timeout)
        self.requests = 0
        self.rejected: list[Rejected] = []
        # Meters read through the same query (instance hours and vCPU-hours both from vcpus)
        # share one call per window.
        self._answers: dict[str, Future] = {}
        # Gauge values by flavor seen in earlier windows, for a revision too short to show its own,
        # and the flavors already looked up around the window (asked once, found or not).
        self._seen: dict[tuple[str, str], collections.Counter] = {}
        self._looked_up: set[tuple[str, str]] = set()

    def projects(self) -> list[ProjectInfo]:
        return []  # names come from Keystone; Gnocchi only knows ids

    def collect(self, start: dt.datetime, end: dt.datetime) -> Iterator[UsageInterval]:
        self.rejected, self._answers = [], {}
        self._prefetch(start, end)
        for meter in self.meters:
            if meter.method in (LIFESPAN, LIFESPAN_SIZE):
                yield from self._lifespans(meter, start, end)
            else:
                yield from self._sums(meter, start, end)

    def _query(self, meter: MeterSpec, start: dt.datetime, end: dt.datetime) -> dict:
        """The one aggregates query a meter needs per window, for the whole cloud."""
        if meter.method in (LIFESPAN, LIFESPAN_SIZE):
            return {
                "operation": LIFESPAN_OP.format(metric=meter.gnocchi_metric, agg=meter.aggregation),
                "groupby": LIFESPAN_GROUPBY + list(meter.attributes),
                "start": start - MARGIN,
                "end": end + MARGIN,
                "search": _alive_between(start, end),
                "use_history": True,
            }
        return {
            "operation": SUM_OP.format(metric=meter.gnocchi_metric, agg=meter.aggregation),
            "groupby": ["id", "project_id", *meter.attributes],
            "start": start,
            "end": end,
            "search": _alive_between(start, end),
            "use_history": False,
        }

    def _prefetch(self, start: dt.datetime, end: dt.datetime) -> None:
        """Send the window's queries a few at a time: Gnocchi answers each on one core."""
        if self.concurrency <= 1:
            return
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            futures = [pool.submit(self._fetch, m, **self._query(m, start, end)) for m in self.meters]
            for future in futures:
                future.result()  # re-raises SourceUnavailable after the retries

    # -- lifespans: one group per resource revision ---------------------------------
    def _lifespans(self, meter: MeterSpec, start: dt.datetime, end: dt.datetime) -> Iterator[UsageInterval]:
        qstart, qend = start - MARGIN, end + MARGIN
        groups = self._fetch(meter, **self._query(meter, start, end))
        groups = [(g, p) for g, p in groups if self._has_project(meter, g)]
        sizes = self._sizes(meter, groups, qstart, qend) if meter.method == LIFESPAN_SIZE else {}
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

    def _sizes(self, meter: MeterSpec, groups: list[tuple[dict, list]], qstart, qend) -> dict[int, Decimal]:
        """The gauge's value in each revision (by position in `groups`).

        With use_history Gnocchi multiplies every point by the share of its bucket the
        revision covers; dividing by that share gives the measured value back. That is
        exact for a resource with one revision in the window. Where a revision boundary
        (a resize) falls inside the window, the 5-minute bucket holding it also holds the
        other revision's sample, so those resources' raw series are read once more,
        without history, and each revision takes the buckets wholly inside it.
        """
        first: dict[str, str] = {}
        for group, _ in sorted(groups, key=lambda g: str(g[0].get("revision_start"))):
            first.setdefault(str(group.get("id")), str(group.get("revision_start")))
        sizes: dict[int, Decimal] = {}
        resized: dict[int, dict] = {}
        for i, (group, points) in enumerate(groups):
            is_first = first.get(str(group.get("id"))) == str(group.get("revision_start"))
            if _inner_boundaries(group, qstart, qend, is_first):
                resized[i] = group
                continue
            values = []
            for when, granularity, value in points:
                share = _coverage(group, _ts(when), float(granularity), (qstart, qend, is_first))
                if share > 0:
                    values.append(_decimal(value / share))
            if values:
                sizes[i] = max(values)
                self._votes(meter, _kind(group))[sizes[i]] += 1
        if resized:
            sizes |= self._resized_sizes(meter, resized, sizes, groups, qstart, qend)
        return sizes

    def _resized_sizes(self, meter, resized: dict[int, dict], known: dict, groups, qstart, qend) -> dict:
        ids = sorted({str(g["id"]) for g in resized.values()})
        log.debug("gnocchi: %s of %d resources with two revisions in the window, read raw", meter.metric, len(ids))
        series = self._fetch(
            meter,
            RAW_OP.format(metric=meter.gnocchi_metric, agg=meter.aggregation),
            groupby=["id"],
            start=qstart,
            end=qend,
            search={"in": {"id": ids}},
            use_history=False,
        )
        raw = {str(g.get("id")): points for g, points in series}
        by_kind: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        for i, size in known.items():
            by_kind[_kind(groups[i][0])][size] += 1
        sizes, unknown = {}, {}
        for i, group in resized.items():
            lo = _ts(group.get("revision_start")) or qstart
            hi = _ts(group.get("revision_end")) or qend
            inside = collections.Counter(
                _decimal(value)
                for when, granularity, value in raw.get(str(group["id"]), [])
                if lo <= _ts(when) and _ts(when) + dt.timedelta(seconds=float(granularity)) <= hi
            )
            # No sample wholly inside the revision (a resize minutes from the window's edge): the
            # value its flavor shows on the cloud's other instances (now or in earlier windows).
            votes = inside or by_kind.get(_kind(group)) or self._votes(meter, _kind(group))
            if votes:
                sizes[i] = votes.most_common(1)[0][0]
            else:
                unknown[i] = group
        # A flavor no instance showed yet (the old flavor of an instance resized before its first
        # sample of the window): its instances in the month around, else the bucket where the
        # revision began, which holds the resize's own sample.
        kinds = {_kind(g) for g in unknown.values() if g.get("flavor_id")}
        kinds -= {kind for metric, kind in self._looked_up if metric == meter.gnocchi_metric}
        self._looked_up |= {(meter.gnocchi_metric, kind) for kind in kinds}
        for kind, votes in (self._flavor_votes(meter, kinds, qstart, qend) if kinds else {}).items():
            self._votes(meter, kind).update(votes)
        for i, group in unknown.items():
            lo = _ts(group.get("revision_start")) or qstart
            if votes := self._votes(meter, _kind(group)):
                sizes[i] = votes.most_common(1)[0][0]
            elif (begun := self._bucket_at(raw.get(str(group["id"]), []), lo)) is not None and lo > qstart:
                sizes[i] = begun
        return sizes

    def _votes(self, meter: MeterSpec, kind: str) -> collections.Counter:
        return self._seen.setdefault((meter.gnocchi_metric, kind), collections.Counter())

    def _flavor_votes(self, meter, kinds: set[str], qstart, qend) -> dict[str, collections.Counter]:
        """The gauge's values on any instance while it had one of these flavors, in the month around.

        Revisions come from the resource history (the aggregates API cannot search it by
        flavor), values from their raw series: only buckets no other revision shares.
        """
        lo, hi = qstart - FLAVOR_LOOKAROUND, qend + FLAVOR_LOOKAROUND
        # Gnocchi 4.7 answers "in" on a type's attribute in the history with HTTP 400; "=" works.
        flavors = [{"=": {"flavor_id": k.removeprefix("flavor:")}} for k in sorted(kinds)]
        query = {
            "and": [
                {"or": flavors},
                _alive_between(lo, hi),
                {"<": {"revision_start": hi.isoformat()}},
                {"or": [{"=": {"revision_end": None}}, {">=": {"revision_end": lo.isoformat()}}]},
            ]
        }
        revisions = self._call(
            meter,
            lambda: self._client.resource.search(
                resource_type=meter.resource_type,
                query=query,
                history=True,
                limit=FLAVOR_REVISIONS,
                sorts=["started_at:desc"],  # the nearest first: the older ones may have no points left
            ),
        )
        if not revisions:
            return {}
        ids = sorted({str(r["id"]) for r in revisions})
        op = RAW_OP.format(metric=meter.gnocchi_metric, agg=meter.aggregation)
        series = self._fetch(meter, op, groupby=["id"], start=lo, end=hi, search={"in": {"id": ids}}, use_history=False)
        raw = {str(g.get("id")): points for g, points in series}
        votes: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        for rev in revisions:
            # A resource's first revision owns everything before its end; a later one starts at its change.
            since = _ts(rev["revision_start"]) if _ts(rev["revision_start"]) > _ts(rev["started_at"]) else None
            until = _ts(rev.get("revision_end"))
            for when, granularity, value in raw.get(str(rev["id"]), []):
                begin, stop = _ts(when), _ts(when) + dt.timedelta(seconds=float(granularity))
                if (since is None or since <= begin) and (until is None or stop <= until):
                    votes[_kind(rev)][_decimal(value)] += 1
        return votes

    @staticmethod
    def _bucket_at(points: list, when: dt.datetime) -> Decimal | None:
        for start, granularity, value in points:
            if _ts(start) <= when < _ts(start) + dt.timedelta(seconds=float(granularity)):
                return _decimal(value)
        return None

    # -- sums: counters and samples, without history ----------------------------------
    def _sums(self, meter: MeterSpec, start: dt.datetime, end: dt.datetime) -> Iterator[UsageInterval]:
        groups = self._fetch(meter, **self._query(meter, start, end))
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
        key = json.dumps([operation, meter.resource_type, groupby, str(start), str(end), search, use_history])
        with self._lock:
            pending = self._answers.get(key)
            if pending is None:
                pending = self._answers[key] = Future()
                mine = True
            else:
                mine = False
        if mine:
            try:
                args = (meter, operation, groupby, start, end, search, use_history)
                pending.set_result(self._call(meter, lambda: self._aggregates(*args)))
            except BaseException as exc:
                pending.set_exception(exc)
        return pending.result()

    def _aggregates(self, meter: MeterSpec, operation: str, groupby, start, end, search, use_history):
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

    def _call(self, meter: MeterSpec, send: Callable[[], list]):
        for attempt in range(self.retries + 1):
            with self._lock:
                self.requests += 1
            try:
                return send()
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


def _decimal(value: float) -> Decimal:
    d = Decimal(repr(round(value, 6)))
    return d.quantize(Decimal(1)) if d == d.to_integral_value() else d.normalize()


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
