"""Reconciliation: Tally's collected compute usage against Nova's os-simple-tenant-usage.

Per project and per server, for each source Tally collected (Gnocchi, the API
lifecycles), compare hours, vCPU-hours, RAM MB-hours and local-disk GB-hours
with what Nova reports, and explain each difference where its cause is known:
Nova bills a resized server's whole life at its current flavor, counts stopped
servers as running, resets launched_at on a resize, and never reports servers
that were not launched. What stays unexplained is flagged as a gap.
"""

from __future__ import annotations

import collections
import datetime as dt
import itertools
from dataclasses import dataclass, field
from decimal import Decimal

from rating.collectors.base import EPHEMERAL_DISK, INSTANCE, MEMORY, ROOT_DISK, VCPU
from rating.models import UsageRecord
from tenants.models import Project

FIGURES = ("hours", "vcpu_hours", "memory_mb_hours", "local_gb_hours")
NOVA_FIGURES = {"hours": "hours", "vcpu_hours": "vcpus", "memory_mb_hours": "memory_mb", "local_gb_hours": "local_gb"}
# Nova rounds nothing but its hours are floats; a thousandth of an hour is 3.6 s.
TOLERANCE = Decimal("0.001")


@dataclass
class ProjectReconciliation:
    project_id: str
    name: str
    nova: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(FIGURES, Decimal(0)))
    ours: dict[str, dict[str, Decimal]] = field(default_factory=dict)  # source -> figure -> value
    explanations: list[str] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)  # unexplained differences

    def difference(self, source: str, figure: str) -> Decimal:
        return self.nova[figure] - self.ours.get(source, {}).get(figure, Decimal(0))

    @property
    def reconciled(self) -> bool:
        return not self.gaps


def usage_reconcile(
    *, start: dt.datetime, end: dt.datetime, nova_rows: list[dict], sources: list[str]
) -> list[ProjectReconciliation]:
    """One reconciliation per project that Nova or any of `sources` has compute usage for."""
    nova_servers = _nova_servers(nova_rows, start, end)
    ours = {source: _our_servers(source, start, end) for source in sources}
    projects = {row["tenant_id"] for row in nova_servers.values()}
    projects |= {s["project_id"] for servers in ours.values() for s in servers.values()}
    names = dict(Project.objects.filter(keystone_id__in=projects).values_list("keystone_id", "name"))
    report = {pid: ProjectReconciliation(pid, names.get(pid, pid)) for pid in sorted(projects)}
    for row in nova_servers.values():
        for figure in FIGURES:
            report[row["tenant_id"]].nova[figure] += row[figure]
    for source, servers in ours.items():
        for pid in report:
            report[pid].ours[source] = dict.fromkeys(FIGURES, Decimal(0))
        for server in servers.values():
            for figure in FIGURES:
                report[server["project_id"]].ours[source][figure] += server[figure]
        for sid in sorted(set(servers) | {k for k, v in nova_servers.items() if v["tenant_id"] in report}):
            _explain_server(report, source, sid, servers.get(sid), nova_servers.get(sid))
    for project in report.values():
        _compare_sources(project, sources)
    return sorted(report.values(), key=lambda r: r.name)


def _compare_sources(project: ProjectReconciliation, sources: list[str]) -> None:
    """Where two sources cover the same project, their figures must agree too."""
    for a, b in itertools.pairwise(sources):
        for figure in FIGURES:
            gap = project.ours[a][figure] - project.ours[b][figure]
            if abs(gap) > TOLERANCE:
                project.gaps.append(f"{a} and {b} differ by {gap:+.3f} in {figure.replace('_', ' ')}")


def _nova_servers(rows: list[dict], start: dt.datetime, end: dt.datetime) -> dict[str, dict]:
    """Nova's rows summed per server (it pages by instance, so a server may come back twice)."""
    servers: dict[str, dict] = {}
    for row in rows:
        hours = Decimal(str(row.get("hours") or 0))
        entry = servers.setdefault(
            row["instance_id"],
            {
                "tenant_id": row["tenant_id"],
                "name": row.get("name", ""),
                "flavor": row.get("flavor", ""),
                "state": row.get("state", ""),
                **dict.fromkeys(FIGURES, Decimal(0)),
            },
        )
        for figure, column in NOVA_FIGURES.items():
            entry[figure] += hours if figure == "hours" else hours * Decimal(str(row.get(column) or 0))
    return servers


def _our_servers(source: str, start: dt.datetime, end: dt.datetime) -> dict[str, dict]:
    metrics = {INSTANCE: "hours", VCPU: "vcpu_hours", MEMORY: "memory_mb_hours"}
    metrics |= {ROOT_DISK: "local_gb_hours", EPHEMERAL_DISK: "local_gb_hours"}
    servers: dict[str, dict] = {}
    records = UsageRecord.objects.filter(source=source, metric__in=metrics, start__gte=start, start__lt=end)
    for r in records.select_related("project").order_by("start"):
        s = servers.setdefault(
            r.resource_id,
            {"project_id": r.project.keystone_id, "flavors": [], **dict.fromkeys(FIGURES, Decimal(0))},
        )
        value = r.quantity * 1024 if r.metric == MEMORY else r.quantity
        s[metrics[r.metric]] += value
        if r.metric == INSTANCE:
            s.setdefault("name", r.attributes.get("server", ""))
            if not s["flavors"] or s["flavors"][-1][0] != r.price_key:
                s["flavors"].append((r.price_key, r.start, r.quantity))
            else:
                s["flavors"][-1] = (r.price_key, s["flavors"][-1][1], s["flavors"][-1][2] + r.quantity)
    return servers


def _explain_server(report, source: str, sid: str, ours: dict | None, nova: dict | None) -> None:
    if nova is None and ours is None:
        return
    project = report[(nova or {}).get("tenant_id") or ours["project_id"]]
    name = (nova or {}).get("name") or (ours or {}).get("name") or sid[:8]
    if nova is None:
        project.gaps.append(
            f"{source}: {name} has {ours['hours']:.3f} h that Nova does not report "
            "(its launched_at was reset by a resize or rebuild, or it never launched)"
        )
        return
    if ours is None:
        project.gaps.append(f"{source}: Nova reports {name} ({nova['hours']:.3f} h) but {source} has no usage for it")
        return
    if nova["state"] in ("stopped", "shelved", "paused", "suspended"):
        project.explanations.append(
            f"{name} is {nova['state']}: Nova counts it as running, and so does Tally (stopped servers are billed)"
        )
    hours_gap = nova["hours"] - ours["hours"]
    if abs(hours_gap) > TOLERANCE:
        project.gaps.append(f"{source}: {name} hours differ by {hours_gap:+.3f} h (Nova {nova['hours']:.3f})")
        return
    if len(ours["flavors"]) > 1:
        steps = " -> ".join(f"{f} ({h:.3f} h)" for f, _, h in ours["flavors"])
        deltas = ", ".join(
            f"{f.replace('_', ' ')} {nova[f] - ours[f]:+.3f}" for f in FIGURES[1:] if abs(nova[f] - ours[f]) > TOLERANCE
        )
        project.explanations.append(
            f"{source}: {name} was resized {steps}; Nova bills all {nova['hours']:.3f} h at its current "
            f"flavor {nova['flavor']}: {deltas}"
        )
        return
    for figure in FIGURES[1:]:
        if abs(nova[figure] - ours[figure]) > TOLERANCE:
            project.gaps.append(
                f"{source}: {name} {figure.replace('_', ' ')} differ by {nova[figure] - ours[figure]:+.3f}"
            )


def reconciliation_summary(report: list[ProjectReconciliation]) -> dict[str, int]:
    counts = collections.Counter("reconciled" if r.reconciled else "gaps" for r in report)
    return {"projects": len(report), "reconciled": counts["reconciled"], "with_gaps": counts["gaps"]}
