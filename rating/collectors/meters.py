"""Which Gnocchi meters Tally collects, and how each becomes a billable quantity.

The default follows Ceilometer's own resource definitions
(ceilometer/publisher/data/gnocchi_resources.yaml): resource types, meter names,
units and the attributes kept for pricing. Admins may change the stored copy
(rating.models.MeterDefinition); this module is the versioned default it starts from.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from rating.collectors.base import (
    EGRESS,
    EPHEMERAL_DISK,
    FLOATING_IP,
    IMAGE,
    INGRESS,
    INSTANCE,
    MEMORY,
    OBJECT_STORAGE,
    ROOT_DISK,
    SNAPSHOT,
    UNITS,
    VCPU,
    VOLUME,
)

DEFAULT_METERS_VERSION = "ceilometer-gnocchi_resources-2026.1"

# How a meter's data becomes a quantity:
LIFESPAN = "lifespan"  # hours from the resource revision's exact boundaries
LIFESPAN_SIZE = "lifespan_size"  # those hours x the gauge's value in the revision (GiB-hours, vCPU-hours)
SUM = "sum"  # sum of the points (e.g. rate:mean of a byte counter = bytes moved)
SAMPLES = "samples"  # time-weighted sum of sampled values (only samples show it)
METHODS = (LIFESPAN, LIFESPAN_SIZE, SUM, SAMPLES)

B_TO_GIB = Decimal(1) / Decimal(2**30)
MB_TO_GIB = Decimal(1) / Decimal(1024)  # Ceilometer's "MB" of memory is MiB


@dataclass(frozen=True)
class MeterSpec:
    metric: str  # Tally's metric (a key of base.UNITS)
    resource_type: str  # Gnocchi resource type
    gnocchi_metric: str  # Ceilometer's meter name
    method: str = LIFESPAN
    aggregation: str = "mean"  # the archive policy aggregation read
    factor: Decimal = Decimal(1)  # source unit -> Tally unit
    attributes: tuple[str, ...] = ()  # resource attributes kept (and followed through revisions)
    price_key: str = ""  # the attribute the price is looked up by
    bill_started_hours: bool = False  # every started clock hour counts in full (CloudKitty's way)

    def __post_init__(self) -> None:
        if self.metric not in UNITS:
            raise ValueError(f"unknown Tally metric {self.metric!r}")
        if self.method not in METHODS:
            raise ValueError(f"unknown method {self.method!r} (one of {', '.join(METHODS)})")
        if self.price_key and self.price_key not in self.attributes:
            raise ValueError(f"the price key {self.price_key!r} must be one of the attributes kept")


_INSTANCE_ATTRS = ("flavor_name", "flavor_id", "image_ref", "launched_at")
DEFAULT_METERS: tuple[MeterSpec, ...] = (
    # Ceilometer has no "instance" meter any more: vcpus proves existence (cpu would do too, as in
    # CloudKitty, but vcpus lets instance hours and vCPU-hours share one aggregates call).
    MeterSpec(INSTANCE, "instance", "vcpus", LIFESPAN, "mean", Decimal(1), _INSTANCE_ATTRS, "flavor_name"),
    MeterSpec(VCPU, "instance", "vcpus", LIFESPAN_SIZE, attributes=_INSTANCE_ATTRS),
    MeterSpec(MEMORY, "instance", "memory", LIFESPAN_SIZE, factor=MB_TO_GIB, attributes=_INSTANCE_ATTRS),
    MeterSpec(ROOT_DISK, "instance", "disk.root.size", LIFESPAN_SIZE, attributes=_INSTANCE_ATTRS),
    MeterSpec(EPHEMERAL_DISK, "instance", "disk.ephemeral.size", LIFESPAN_SIZE, attributes=_INSTANCE_ATTRS),
    MeterSpec(VOLUME, "volume", "volume.size", LIFESPAN_SIZE, attributes=("volume_type",), price_key="volume_type"),
    # Ceilometer files snapshots under the volume resource type.
    MeterSpec(SNAPSHOT, "volume", "snapshot.size", LIFESPAN_SIZE, attributes=("volume_type",)),
    MeterSpec(IMAGE, "image", "image.size", LIFESPAN_SIZE, factor=B_TO_GIB, attributes=("name", "disk_format")),
    MeterSpec(FLOATING_IP, "network", "ip.floating", LIFESPAN),
    MeterSpec(
        EGRESS, "instance_network_interface", "network.outgoing.bytes", SUM, "rate:mean", B_TO_GIB, ("instance_id",)
    ),
    MeterSpec(
        INGRESS, "instance_network_interface", "network.incoming.bytes", SUM, "rate:mean", B_TO_GIB, ("instance_id",)
    ),
    MeterSpec(OBJECT_STORAGE, "swift_account", "storage.objects.size", SAMPLES, factor=B_TO_GIB),
)
