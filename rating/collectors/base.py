"""The boundary between the outside world and Tally's usage records.

Every source (Gnocchi, the built-in sample cloud, later the OpenStack APIs)
turns its data into UsageInterval objects; nothing downstream knows where
usage came from.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

# Tally's billable metrics: name -> unit. Collectors emit these; rate cards price them.
# The price key of a usage record is the attribute its price is looked up by.
INSTANCE = "instance"  # hours, price key flavor_name; attributes carry image (licence surcharges)
VCPU = "vcpu"  # vCPU-hours (for flavors priced per vCPU)
MEMORY = "memory"  # GiB-hours of RAM
ROOT_DISK = "disk.root"  # GiB-hours
EPHEMERAL_DISK = "disk.ephemeral"  # GiB-hours
VOLUME = "volume"  # GiB-hours, price key volume_type
SNAPSHOT = "snapshot"  # GiB-hours
IMAGE = "image"  # GiB-hours of stored image
FLOATING_IP = "floating_ip"  # hours
EGRESS = "network.egress"  # GiB sent
INGRESS = "network.ingress"  # GiB received
OBJECT_STORAGE = "object_storage"  # GiB-hours stored
UNITS = {
    INSTANCE: "hour",
    VCPU: "vCPU-hour",
    MEMORY: "GiB-hour",
    ROOT_DISK: "GiB-hour",
    EPHEMERAL_DISK: "GiB-hour",
    VOLUME: "GiB-hour",
    SNAPSHOT: "GiB-hour",
    IMAGE: "GiB-hour",
    FLOATING_IP: "hour",
    EGRESS: "GiB",
    INGRESS: "GiB",
    OBJECT_STORAGE: "GiB-hour",
}


class SourceUnavailable(RuntimeError):
    """The usage source could not be read; the message names it and says why."""


@dataclass(frozen=True)
class Rejected:
    """A record a source could not turn into usage: logged, counted and stored per window, never silently dropped."""

    reason: str  # short and countable: "missing project_id", "negative value", "unknown resource type"
    detail: str = ""


@dataclass(frozen=True)
class UsageInterval:
    project_id: str
    resource_id: str
    metric: str
    price_key: str
    start: dt.datetime
    end: dt.datetime
    quantity: Decimal
    attributes: dict = field(default_factory=dict, compare=False)

    @property
    def unit(self) -> str:
        return UNITS[self.metric]


@dataclass(frozen=True)
class ProjectInfo:
    keystone_id: str
    name: str
    domain_id: str
    domain_name: str


class UsageSource(Protocol):
    name: str

    def collect(self, start: dt.datetime, end: dt.datetime) -> Iterator[UsageInterval]:
        """Usage inside [start, end), each interval clipped to it.

        A source may also keep a `rejected: list[Rejected]` for the last call: what it
        could not turn into usage.
        """
        ...

    def projects(self) -> list[ProjectInfo]:
        """Domains and projects the source knows names for (may be empty)."""
        ...


def overlap(
    start: dt.datetime, end: dt.datetime | None, win_start: dt.datetime, win_end: dt.datetime
) -> tuple[dt.datetime, dt.datetime, Decimal] | None:
    """The part of [start, end) inside the window, with its exact length in seconds."""
    lo = max(start, win_start)
    hi = min(end, win_end) if end is not None else win_end
    if hi <= lo:
        return None
    return lo, hi, Decimal((hi - lo) // dt.timedelta(microseconds=1)) / 1_000_000
