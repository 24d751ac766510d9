"""Keystone domains and projects synced from the real OpenStack peer."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from tenants.models import Domain, Project
from tenants.services import KeystoneDomain, KeystoneProject, tenants_sync, tenants_sync_from_keystone
from tests.peers import openstack_connect

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 21, 7, 0, tzinfo=dt.UTC)


@pytest.mark.openstack
def test_it_syncs_the_peers_domains_and_projects():
    conn = openstack_connect()
    counts = tenants_sync_from_keystone(conn=conn, now=NOW)
    assert counts["projects"] >= 4
    web = Project.objects.get(name="acme-web")
    assert web.domain.name == "acme" and web.enabled and web.deleted_at is None
    assert Project.objects.get(name="globex-ml").domain.name == "globex"
    assert Project.objects.get(name="sandbox").domain.name == "Default"
    assert web.billing_account is not None  # every project gets an account to bill


@pytest.mark.openstack
def test_it_reflects_new_renamed_disabled_and_deleted_projects_in_keystone():
    conn = openstack_connect()
    domain = conn.identity.find_domain("sandbox") or conn.identity.find_domain("default")
    name = f"tally-test-{uuid.uuid4().hex[:8]}"
    created = conn.identity.create_project(name=name, domain_id=domain.id, description="tally test")
    try:
        tenants_sync_from_keystone(conn=conn, now=NOW)
        assert Project.objects.get(keystone_id=created.id).name == name

        conn.identity.update_project(created, name=name + "-renamed", is_enabled=False)
        tenants_sync_from_keystone(conn=conn, now=NOW)
        project = Project.objects.get(keystone_id=created.id)
        assert (project.name, project.enabled, project.deleted_at) == (name + "-renamed", False, None)
    finally:
        conn.identity.update_project(created, is_enabled=False)
        conn.identity.delete_project(created)
    tenants_sync_from_keystone(conn=conn, now=NOW)
    project = Project.objects.get(keystone_id=created.id)
    assert project.deleted_at == NOW and not project.enabled  # kept: its usage and statements stay


def test_it_marks_only_what_the_listing_lacks_as_deleted_and_revives_what_returns():
    d = KeystoneDomain("d1", "acme")
    tenants_sync(domains=[d], projects=[KeystoneProject("p1", "web", "d1"), KeystoneProject("p2", "db", "d1")], now=NOW)
    later = NOW + dt.timedelta(hours=1)
    counts = tenants_sync(domains=[d], projects=[KeystoneProject("p1", "web-2", "d1", enabled=False)], now=later)
    assert counts["deleted_projects"] == 1
    assert Project.objects.get(keystone_id="p2").deleted_at == later
    p1 = Project.objects.get(keystone_id="p1")
    assert (p1.name, p1.enabled, p1.deleted_at) == ("web-2", False, None)
    tenants_sync(domains=[d], projects=[KeystoneProject("p2", "db", "d1")], now=later)
    assert Project.objects.get(keystone_id="p2").deleted_at is None
    assert Domain.objects.get(keystone_id="d1").deleted_at is None
