"""Usage derived from the OpenStack APIs alone, for clouds that run no Ceilometer.

Lifecycles come from openstacksdk: Nova servers (launched/terminated) and their
resizes (os-migrations + instance actions, so a resize bills both flavors for
their own hours), Cinder volumes and snapshots, Glance images and Neutron
floating IPs, each from its created_at. What the APIs cannot show is said here
rather than guessed: Cinder hides deleted volumes and snapshots, Neutron
hard-deletes floating IPs and Glance hides deleted images, so resources deleted
before Tally looked are invisible in this mode (the reconciliation report says
so); Gnocchi keeps them.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from rating.collectors.base import (
    EPHEMERAL_DISK,
    FLOATING_IP,
    IMAGE,
    INSTANCE,
    MEMORY,
    ROOT_DISK,
    SNAPSHOT,
    VCPU,
    VOLUME,
    ProjectInfo,
    Rejected,
    SourceUnavailable,
    UsageInterval,
    overlap,
)
from rating.pricing import seconds_to_hours

log = logging.getLogger(__name__)
GIB = Decimal(2**30)


def ts(value) -> dt.datetime | None:
    """OpenStack's times, with or without zone or fraction, as aware UTC datetimes."""
    if not value:
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class Flavor:
    id: str
    name: str
    vcpus: int
    ram_mb: int
    disk_gb: int
    ephemeral_gb: int = 0
    extra_specs: dict = field(default_factory=dict, compare=False)
    is_public: bool = True


@dataclass
class ServerLife:
    """A server's billable life: [launched, ended) split at each resize into (since, flavor) segments."""

    id: str
    name: str
    project_id: str
    status: str
    image_id: str
    launched: dt.datetime
    ended: dt.datetime | None
    segments: list[tuple[dt.datetime, Flavor]]
    # (since, "ACTIVE" | "SHUTOFF") from the instance actions; a stopped server may be priced apart.
    states: list[tuple[dt.datetime, str]] = field(default_factory=list)

    def pieces(self) -> Iterator[tuple[dt.datetime, dt.datetime | None, Flavor, str]]:
        cuts = sorted({since for since, _ in self.segments[1:]} | {since for since, _ in self.states})
        cuts = [c for c in cuts if c > self.launched and (self.ended is None or c < self.ended)]
        bounds = [self.launched, *cuts]
        for lo, hi in zip(bounds, [*cuts, self.ended], strict=True):
            yield lo, hi, _at(self.segments, lo, self.segments[0][1]), _at(self.states, lo, "ACTIVE")


def _at(changes: list, when: dt.datetime, default):
    """The value in effect at `when` of a list of (since, value) changes."""
    value = default
    for since, v in changes:
        if since <= when:
            value = v
    return value


class OpenStackSource:
    name = "openstack"

    def __init__(self, *, conn=None, cloud: str | None = None) -> None:
        self._conn, self._cloud = conn, cloud
        self.requests = 0
        self.rejected: list[Rejected] = []

    @property
    def conn(self):
        if self._conn is None:
            import openstack

            self._conn = openstack.connect(cloud=self._cloud) if self._cloud else openstack.connect()
        return self._conn

    # -- inventory ------------------------------------------------------------------
    def projects(self) -> list[ProjectInfo]:
        domains = {d.id: d.name for d in self._list(self.conn.identity.domains)}
        return [
            ProjectInfo(p.id, p.name, p.domain_id, domains.get(p.domain_id, p.domain_id))
            for p in self._list(self.conn.identity.projects)
            if not getattr(p, "is_domain", False)
        ]

    def flavors(self) -> list[Flavor]:
        out = []
        for f in self._list(self.conn.compute.flavors, is_public=None, details=True):
            specs = f.extra_specs or {}
            out.append(Flavor(f.id, f.name, f.vcpus, f.ram, f.disk, f.ephemeral or 0, specs, bool(f.is_public)))
        return out

    def images(self) -> list:
        return self._list(self.conn.image.images)

    def volume_types(self) -> list:
        return self._list(self.conn.block_storage.types)

    # -- usage ----------------------------------------------------------------------
    def collect(self, start: dt.datetime, end: dt.datetime) -> Iterator[UsageInterval]:
        self.rejected = []
        for life in self.server_lives():
            yield from self._server_usage(life, start, end)
        yield from self._volume_usage(start, end)
        yield from self._image_usage(start, end)
        yield from self._floating_ip_usage(start, end)

    def server_lives(self) -> list[ServerLife]:
        flavors = self.flavors()
        by_name = {f.name: f for f in flavors}
        servers = self._list(self.conn.compute.servers, all_projects=True, details=True)
        servers += self._list(self.conn.compute.servers, all_projects=True, details=True, deleted=True)
        migrations = self._resize_migrations()
        internal = _internal_flavor_ids(self, flavors, servers, migrations)
        lives = []
        for s in servers:
            launched = ts(s.launched_at)
            if launched is None:
                continue  # never launched (e.g. NoValidHost): nothing to bill, Nova does not report it either
            if not s.project_id:
                self._reject("missing project_id", f"server {s.id}")
                continue
            current = _embedded_flavor(s.flavor, by_name)
            actions = sorted(self._list(self.conn.compute.server_actions, s), key=lambda a: str(a.start_time))
            segments, created = self._segments(s, current, migrations.get(s.id, []), internal, actions)
            if len(segments) > 1 and segments[1][0] < launched and created:
                # Nova resets launched_at when a resize finishes: the server really started at its creation.
                launched = created
            ended = ts(s.terminated_at) or (ts(getattr(s, "deleted_at", None)) if s.status == "DELETED" else None)
            states = [(ts(a.start_time), STATE_AFTER[a.action]) for a in actions if a.action in STATE_AFTER]
            life = ServerLife(s.id, s.name, s.project_id, s.status, _image_id(s), launched, ended, segments, states)
            lives.append(life)
        return lives

    def _segments(self, server, current: Flavor, migrations: list, internal: dict, actions: list):
        """(since, flavor) from launch: the flavor before each kept resize, then the current one;
        and when the server was created (from its instance actions), if they were read."""
        if not migrations:
            return [(dt.datetime.min.replace(tzinfo=dt.UTC), current)], None
        resize_times, created = _resize_times(actions)
        segments: list[tuple[dt.datetime, Flavor]] = []
        since = dt.datetime.min.replace(tzinfo=dt.UTC)
        for m, when in zip(migrations, resize_times, strict=False):
            old = internal.get(str(m.old_flavor_id))
            if old is None:
                self._reject("unknown flavor", f"server {server.id}: flavor before its resize at {when}")
                continue
            segments.append((since, old))
            since = when
        segments.append((since, current))
        return segments, created

    def _resize_migrations(self) -> dict[str, list]:
        found: dict[str, list] = {}
        for m in self._list(self.conn.compute.migrations, migration_type="resize"):
            if m.status in ("confirmed", "finished") and str(m.old_flavor_id) != str(m.new_flavor_id):
                found.setdefault(m.server_id, []).append(m)
        for ms in found.values():
            ms.sort(key=lambda m: str(m.created_at))
        return found

    def _server_usage(self, life: ServerLife, start: dt.datetime, end: dt.datetime) -> Iterator[UsageInterval]:
        for since, until, flavor, status in life.pieces():
            part = overlap(since, until, start, end)
            if not part:
                continue
            hours = seconds_to_hours(part[2])
            attrs = {"flavor_name": flavor.name, "flavor_id": flavor.id, "image_ref": life.image_id}
            attrs |= {"server": life.name, "status": status}
            quantities = [
                (INSTANCE, flavor.name, hours),
                (VCPU, "", hours * flavor.vcpus),
                (MEMORY, "", (hours * flavor.ram_mb / 1024).quantize(Decimal("1E-10"))),
                (ROOT_DISK, "", hours * flavor.disk_gb),
                (EPHEMERAL_DISK, "", hours * flavor.ephemeral_gb),
            ]
            for metric, key, quantity in quantities:
                if quantity:
                    yield UsageInterval(life.project_id, life.id, metric, key, part[0], part[1], quantity, attrs)

    def _volume_usage(self, start: dt.datetime, end: dt.datetime) -> Iterator[UsageInterval]:
        for v in self._list(self.conn.block_storage.volumes, all_projects=True, details=True):
            project = getattr(v, "project_id", None)
            attrs = {"volume_type": v.volume_type, "name": v.name, "size": str(v.size)}
            yield from self._sized(project, v.id, VOLUME, v.volume_type or "", v.created_at, v.size, attrs, start, end)
        for s in self._list(self.conn.block_storage.snapshots, all_projects=True, details=True):
            project = getattr(s, "project_id", None)
            attrs = {"volume_id": s.volume_id, "name": s.name, "size": str(s.size)}
            yield from self._sized(project, s.id, SNAPSHOT, "", s.created_at, s.size, attrs, start, end)

    def _image_usage(self, start: dt.datetime, end: dt.datetime) -> Iterator[UsageInterval]:
        for image in self.images():
            if image.size is None:
                continue  # no data uploaded: nothing stored
            size = Decimal(image.size) / GIB
            attrs = {"name": image.name, "os_distro": image.os_distro or "", "size": str(image.size)}
            yield from self._sized(image.owner, image.id, IMAGE, "", image.created_at, size, attrs, start, end)

    def _floating_ip_usage(self, start: dt.datetime, end: dt.datetime) -> Iterator[UsageInterval]:
        for ip in self._list(self.conn.network.ips):
            attrs = {"address": ip.floating_ip_address, "status": ip.status}
            yield from self._sized(ip.project_id, ip.id, FLOATING_IP, "", ip.created_at, 1, attrs, start, end)

    def _sized(self, project, rid, metric, key, created, size, attrs, start, end) -> Iterator[UsageInterval]:
        if not project:
            self._reject("missing project_id", f"{metric} {rid}")
            return
        born = ts(created)
        if born is None or size is None or Decimal(size) < 0:
            self._reject("malformed resource", f"{metric} {rid}: created_at={created} size={size}")
            return
        part = overlap(born, None, start, end)
        if part:
            quantity = (seconds_to_hours(part[2]) * Decimal(size)).quantize(Decimal("1E-10"))
            yield UsageInterval(project, rid, metric, key, part[0], part[1], quantity, attrs)

    # -- os-simple-tenant-usage -----------------------------------------------------
    def tenant_usage(self, start: dt.datetime, end: dt.datetime) -> list[dict]:
        """Nova's per-server usage, every page, for the reconciliation report.

        detailed=1, not True: Nova only takes "1" as true. Pages by instance (2.40+).
        """
        naive = {"start": start.replace(tzinfo=None), "end": end.replace(tzinfo=None)}
        rows = []
        for usage in self._list(self.conn.compute.usages, detailed=1, **naive):
            for su in usage.server_usages or []:
                rows.append({**su, "tenant_id": usage.project_id})
        return rows

    # -- plumbing -------------------------------------------------------------------
    def _list(self, method, *args, **query) -> list:
        self.requests += 1
        try:
            return list(method(*args, **query))
        except Exception as exc:
            from keystoneauth1 import exceptions as ksa
            from openstack import exceptions as osexc

            if isinstance(exc, (osexc.SDKException, ksa.ClientException)):
                raise SourceUnavailable(f"OpenStack API ({method.__name__}) failed: {str(exc)[:300]}") from None
            raise

    def _reject(self, reason: str, detail: str) -> None:
        log.warning("openstack: skipped a bad record (%s): %s", reason, detail)
        self.rejected.append(Rejected(reason, detail))


STATE_AFTER = {
    "stop": "SHUTOFF",
    "shelve": "SHUTOFF",
    "suspend": "SHUTOFF",
    "start": "ACTIVE",
    "unshelve": "ACTIVE",
    "resume": "ACTIVE",
}


def _resize_times(actions: list) -> tuple[list[dt.datetime], dt.datetime | None]:
    """When each kept resize took effect (the resize action's time, unless a revert undid it),
    and when the server was created."""
    times: list[dt.datetime] = []
    created = next((ts(a.start_time) for a in actions if a.action == "create"), None)
    for action in actions:
        if action.action == "resize":
            times.append(ts(action.start_time))
        elif action.action == "revertResize" and times:
            times.pop()
    return times, created


def _image_id(server) -> str:
    image = server.image or {}
    return str(image.get("id") or "") if isinstance(image, dict) else str(image)


def _embedded_flavor(embedded: dict | None, by_name: dict[str, Flavor]) -> Flavor:
    """The server's current flavor as Nova embeds it (2.47+), or the catalogue's by name or id."""
    embedded = embedded or {}
    name = embedded.get("original_name") or embedded.get("name") or ""
    if "vcpus" in embedded:
        return Flavor(
            by_name[name].id if name in by_name else str(embedded.get("id") or name),
            name,
            int(embedded["vcpus"]),
            int(embedded["ram"]),
            int(embedded.get("disk") or 0),
            int(embedded.get("ephemeral") or 0),
            embedded.get("extra_specs") or {},
        )
    return by_name.get(name) or next(
        (f for f in by_name.values() if f.id == embedded.get("id")), Flavor("", name, 0, 0, 0)
    )


def _internal_flavor_ids(source: OpenStackSource, flavors: list[Flavor], servers: list, migrations: dict) -> dict:
    """Nova's internal flavor ids (os-migrations' old/new_instance_type_id) -> flavors.

    Only internal ids appear in migrations. Listing flavors sorted by that id
    (sort_key=id) gives their order; each resized server's last migration ties
    its new id to the server's current flavor, which fixes the offset.
    """
    if not migrations:
        return {}
    ordered = source._list(source.conn.compute.flavors, is_public=None, details=True, sort_key="id", sort_dir="asc")
    rank = {f.name: i for i, f in enumerate(ordered)}
    by_name = {f.name: f for f in flavors}
    offsets = set()
    for s in servers:
        if s.id in migrations:
            name = (s.flavor or {}).get("original_name")
            if name in rank:
                offsets.add(int(migrations[s.id][-1].new_flavor_id) - rank[name])
    if len(offsets) != 1:
        return {}  # ids with gaps (deleted flavors): ambiguous, so the resizes are reported, not guessed
    offset = offsets.pop()
    return {str(i + offset): by_name.get(f.name, f) for i, f in enumerate(ordered)}
