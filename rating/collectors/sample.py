"""A built-in, deterministic sample cloud behind the same interface as Gnocchi.

It lets `make demo` run with no OpenStack at all: 3 domains, 12 projects,
instances of several flavors and images (one resized), volumes of two types and
floating IPs, with creations and deletions over the three months before `now`.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from rating.collectors.base import FLOATING_IP, INSTANCE, VOLUME, ProjectInfo, UsageInterval, overlap
from rating.pricing import seconds_to_hours

UTC = dt.UTC
DOMAINS = ["engineering", "research", "operations"]
FLAVORS = ["m1.small", "m1.medium", "m1.large", "m1.xlarge"]
IMAGES = ["ubuntu-24.04", "debian-12", "rhel-9", "windows-2022"]
VOLUME_TYPES = ["standard", "ssd"]


@dataclass(frozen=True)
class _Resource:
    kind: str
    id: str
    project_id: str
    start: dt.datetime
    end: dt.datetime | None
    # (from, flavor) pairs for instances; a resize adds a second pair
    flavors: tuple[tuple[dt.datetime, str], ...] = ()
    image: str = ""
    volume_type: str = ""
    size_gib: int = 0


def month_start(day: dt.datetime, months_back: int = 0) -> dt.datetime:
    year, month = day.year, day.month - months_back
    while month < 1:
        year, month = year - 1, month + 12
    return dt.datetime(year, month, 1, tzinfo=UTC)


class SampleCloud:
    name = "sample"

    def __init__(self, *, now: dt.datetime, seed: int = 2026) -> None:
        self.end = month_start(now)
        self.start = month_start(now, 3)
        self._rng = random.Random(seed)
        self._uuid = lambda: uuid.UUID(int=self._rng.getrandbits(128), version=4).hex
        self._projects: list[ProjectInfo] = []
        self.resources: list[_Resource] = []
        self._generate()

    def projects(self) -> list[ProjectInfo]:
        return list(self._projects)

    def collect(self, start: dt.datetime, end: dt.datetime) -> Iterator[UsageInterval]:
        for res in self.resources:
            yield from self._intervals(res, start, end)

    # -- generation ---------------------------------------------------------
    def _generate(self) -> None:
        for d, domain in enumerate(DOMAINS):
            domain_id = self._uuid()
            for p in range(4):
                info = ProjectInfo(self._uuid(), f"{domain[:3]}-{['web', 'data', 'ml', 'ci'][p]}", domain_id, domain)
                self._projects.append(info)
                self._generate_project(info.keystone_id, busy=1 + (d + p) % 3)
        self._resize_one()

    def _lifespan(self) -> tuple[dt.datetime, dt.datetime | None]:
        rng, span = self._rng, int((self.end - self.start).total_seconds())
        if rng.random() < 0.5:
            start = self.start - dt.timedelta(seconds=rng.randint(3600, 60 * 86400))
        else:
            start = self.start + dt.timedelta(seconds=rng.randint(0, span - 86400))
        end = None
        if rng.random() < 0.3:
            lo = max(start, self.start)
            end = lo + dt.timedelta(seconds=rng.randint(1800, int((self.end - lo).total_seconds()) - 60))
        return start, end

    def _generate_project(self, project_id: str, busy: int) -> None:
        rng = self._rng
        for _ in range(2 + 2 * busy):
            start, end = self._lifespan()
            flavor = rng.choices(FLAVORS, weights=[5, 4, 2, 1])[0]
            self.resources.append(
                _Resource(INSTANCE, self._uuid(), project_id, start, end, ((start, flavor),), rng.choice(IMAGES))
            )
        for _ in range(1 + busy):
            start, end = self._lifespan()
            vtype, size = rng.choice(VOLUME_TYPES), rng.choice([10, 20, 50, 100, 250])
            self.resources.append(
                _Resource(VOLUME, self._uuid(), project_id, start, end, volume_type=vtype, size_gib=size)
            )
        for _ in range(busy):
            start, end = self._lifespan()
            self.resources.append(_Resource(FLOATING_IP, self._uuid(), project_id, start, end))

    def _resize_one(self) -> None:
        """Resize the first long-lived instance up one size in the middle of the second month."""
        when = month_start(self.end, 2) + dt.timedelta(days=14, hours=9, minutes=30)
        for i, res in enumerate(self.resources):
            flavor = res.flavors[0][1] if res.flavors else ""
            if res.kind == INSTANCE and res.start < when and res.end is None and flavor != FLAVORS[-1]:
                bigger = FLAVORS[FLAVORS.index(flavor) + 1]
                self.resources[i] = _Resource(
                    INSTANCE, res.id, res.project_id, res.start, None, (res.flavors[0], (when, bigger)), res.image
                )
                return

    # -- usage --------------------------------------------------------------
    def _intervals(self, res: _Resource, start: dt.datetime, end: dt.datetime) -> Iterator[UsageInterval]:
        if res.kind == INSTANCE:
            bounds = [f for f, _ in res.flavors[1:]] + [res.end]
            for (since, flavor), until in zip(res.flavors, bounds, strict=True):
                part = overlap(since, until, start, end)
                if part:
                    attrs = {"flavor_name": flavor, "image": res.image}
                    yield UsageInterval(
                        res.project_id, res.id, INSTANCE, flavor, part[0], part[1], seconds_to_hours(part[2]), attrs
                    )
            return
        part = overlap(res.start, res.end, start, end)
        if not part:
            return
        hours = seconds_to_hours(part[2])
        if res.kind == VOLUME:
            yield UsageInterval(
                res.project_id,
                res.id,
                VOLUME,
                res.volume_type,
                part[0],
                part[1],
                hours * res.size_gib,
                {"size_gib": res.size_gib},
            )
        else:
            yield UsageInterval(res.project_id, res.id, FLOATING_IP, "", part[0], part[1], hours)
