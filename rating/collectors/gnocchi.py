"""Usage from Gnocchi, where Ceilometer publishes it.

Quantities that a resource's lifespan determines (instance hours per flavor,
volume GiB-hours, floating-IP hours) are computed from the exact revision
boundaries Gnocchi keeps, not by counting 5-minute samples: the aggregates API,
with use_history and the lifespan attributes in the groupby, returns one group
per resource revision, so one HTTP call per meter and window covers the whole
cloud whatever its number of projects or resources.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from gnocchiclient import exceptions as gexc

from rating.collectors.base import (
    FLOATING_IP,
    INSTANCE,
    VOLUME,
    ProjectInfo,
    SourceUnavailable,
    UsageInterval,
    overlap,
)
from rating.pricing import seconds_to_hours

log = logging.getLogger(__name__)

LIFESPAN = ["id", "project_id", "started_at", "ended_at", "revision_start", "revision_end"]
# Samples are only used to find which resources lived in a window; a margin of
# two polling intervals catches a resource whose nearest sample falls outside it.
MARGIN = dt.timedelta(seconds=600)
# Only the groups matter, so resample to few points per resource.
EXISTS_OP = "(aggregate {agg} (resample max 86400 (metric {metric} mean)))"


@dataclass(frozen=True)
class Meter:
    metric: str  # Tally's metric
    resource_type: str  # Gnocchi resource type
    gnocchi_metric: str  # the meter that proves existence (and gives the size)
    attributes: tuple[str, ...]
    price_key: str


METERS = [
    Meter(INSTANCE, "instance", "cpu", ("flavor_name", "flavor_id", "image_ref", "launched_at"), "flavor_name"),
    Meter(VOLUME, "volume", "volume.size", ("volume_type",), "volume_type"),
    Meter(FLOATING_IP, "network", "ip.floating", (), ""),
]


def _ts(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


class GnocchiSource:
    name = "gnocchi"

    def __init__(self, *, endpoint: str, user: str = "admin", auth: str = "basic", timeout: int = 60) -> None:
        self.endpoint, self.timeout = endpoint, timeout
        self._client = _make_client(endpoint=endpoint, user=user, auth=auth, timeout=timeout)
        self.requests = 0

    def projects(self) -> list[ProjectInfo]:
        return []  # names come from Keystone; Gnocchi only knows ids

    def collect(self, start: dt.datetime, end: dt.datetime) -> Iterator[UsageInterval]:
        for meter in METERS:
            for group, points in self._groups(meter, start, end):
                yield from self._intervals(meter, group, points, start, end)

    def _groups(self, meter: Meter, start: dt.datetime, end: dt.datetime) -> list[tuple[dict, list]]:
        search = {
            "and": [
                {"<": {"started_at": end.isoformat()}},
                {"or": [{"=": {"ended_at": None}}, {">=": {"ended_at": start.isoformat()}}]},
            ]
        }
        agg = "max" if meter.metric == VOLUME else "count"
        self.requests += 1
        try:
            groups = self._client.aggregates.fetch(
                EXISTS_OP.format(agg=agg, metric=meter.gnocchi_metric),
                resource_type=meter.resource_type,
                search=search,
                groupby=LIFESPAN + list(meter.attributes),
                granularity=300,
                start=(start - MARGIN).isoformat(),
                stop=(end + MARGIN).isoformat(),
                use_history=True,
            )
        except (gexc.MetricNotFound, gexc.ResourceTypeNotFound):
            return []  # nothing of this kind measured in the window
        except gexc.ConnectionFailure:
            raise SourceUnavailable(f"Gnocchi at {self.endpoint} is unreachable (connection refused)") from None
        except gexc.ConnectionTimeout:
            raise SourceUnavailable(f"Gnocchi at {self.endpoint} timed out after {self.timeout} s") from None
        except gexc.ClientException as exc:
            code = getattr(exc, "code", "?")
            raise SourceUnavailable(f"Gnocchi at {self.endpoint} answered HTTP {code}: {str(exc)[:200]}") from None
        try:
            return [(g["group"], g["measures"]["measures"]["aggregated"]) for g in groups]
        except (KeyError, TypeError):
            raise SourceUnavailable(f"Gnocchi at {self.endpoint} sent a malformed aggregates answer") from None

    def _intervals(
        self, meter: Meter, group: dict, points: list, start: dt.datetime, end: dt.datetime
    ) -> Iterator[UsageInterval]:
        born = _ts(group.get("launched_at")) or _ts(group["started_at"])
        alive_from = max(born, _ts(group["revision_start"]) or born)
        ends = [t for t in (_ts(group.get("ended_at")), _ts(group.get("revision_end"))) if t]
        part = overlap(alive_from, min(ends) if ends else None, start, end)
        if not part:
            return
        hours = seconds_to_hours(part[2])
        attrs = {a: group.get(a) for a in meter.attributes}
        quantity = hours
        if meter.metric == VOLUME:
            size = max((Decimal(str(p[2])) for p in points), default=Decimal(0))
            quantity, attrs["size_gib"] = hours * size, str(size)
        key = str(group.get(meter.price_key) or "") if meter.price_key else ""
        yield UsageInterval(group["project_id"], group["id"], meter.metric, key, part[0], part[1], quantity, attrs)


def _make_client(*, endpoint: str, user: str, auth: str, timeout: int):
    from gnocchiclient import auth as gauth
    from gnocchiclient import client as gclient

    if auth == "keystone":
        import openstack

        session = openstack.connect().session
        return gclient.Client("1", session=session, adapter_options={"endpoint_override": endpoint})
    plugin = gauth.GnocchiBasicPlugin(user=user, endpoint=endpoint)
    return gclient.Client("1", session_options={"auth": plugin, "timeout": timeout})
