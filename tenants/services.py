from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from tenants.keystone import KeystoneSignIn
from tenants.models import BillingAccount, Domain, KeystoneIdentity, Project, ProjectMembership, UserPreference

FINANCE_GROUP = "finance"
ADMIN_GROUP = "rate-admin"


def domain_upsert(*, keystone_id: str, name: str) -> Domain:
    domain, _ = Domain.objects.update_or_create(keystone_id=keystone_id, defaults={"name": name})
    return domain


def project_upsert(*, keystone_id: str, name: str, domain: Domain | None = None, enabled: bool = True) -> Project:
    """Create or update a project; a new project gets a billing account of its own."""
    with transaction.atomic():
        project, created = Project.objects.select_for_update().get_or_create(
            keystone_id=keystone_id, defaults={"name": name, "domain": domain, "enabled": enabled}
        )
        if not created and (project.name, project.domain, project.enabled) != (name, domain or project.domain, enabled):
            project.name, project.domain, project.enabled = name, domain or project.domain, enabled
            project.save(update_fields=["name", "domain", "enabled"])
        if project.billing_account_id is None:
            project.billing_account = billing_account_for_new_project(name=name, keystone_id=keystone_id)
            project.save(update_fields=["billing_account"])
    return project


def projects_ensure(*, keystone_ids: Iterable[str]) -> dict[str, Project]:
    """Map Keystone ids to projects, creating placeholders for ids seen only in usage.

    A placeholder is named after its id until a Keystone sync gives it a name;
    usage is never dropped because its project is not known yet.
    """
    wanted = set(keystone_ids)
    known = {p.keystone_id: p for p in Project.objects.filter(keystone_id__in=wanted)}
    for missing in sorted(wanted - known.keys()):
        known[missing] = project_upsert(keystone_id=missing, name=missing)
    return known


def billing_account_for_new_project(*, name: str, keystone_id: str) -> BillingAccount:
    account, _ = BillingAccount.objects.get_or_create(
        name=f"{name} ({keystone_id[:8]})",
        defaults={"currency": settings.TALLY_CURRENCY, "mode": settings.TALLY_DEFAULT_MODE},
    )
    return account


def membership_grant(*, user, project: Project, role: str = ProjectMembership.Role.OWNER) -> ProjectMembership:
    membership, _ = ProjectMembership.objects.update_or_create(user=user, project=project, defaults={"role": role})
    return membership


def user_make_finance(*, user) -> None:
    user.groups.add(Group.objects.get_or_create(name=FINANCE_GROUP)[0])


def user_make_rate_admin(*, user) -> None:
    user.groups.add(Group.objects.get_or_create(name=ADMIN_GROUP)[0])


def keystone_user_sync(*, sign_in: KeystoneSignIn, project_roles: Iterable[str], admin_role: str, finance_role: str):
    """Create or update the portal user of a Keystone sign-in; their access mirrors Keystone.

    Memberships are replaced by what Keystone says now, so a role removed in Keystone is
    gone at the next sign-in. A local account with the same user name is never taken over.
    """
    User = get_user_model()
    wanted = set(project_roles)
    with transaction.atomic():
        link = KeystoneIdentity.objects.select_related("user").filter(keystone_user_id=sign_in.user_id).first()
        if link is None:
            username = f"{sign_in.user_name}@{sign_in.domain_name}"
            if User.objects.filter(username=username).exists():
                raise PermissionError(f"a local account {username} exists; it is not linked to Keystone")
            user = User.objects.create_user(username=username)
            user.set_unusable_password()
            user.save()
            link = KeystoneIdentity(user=user, keystone_user_id=sign_in.user_id)
        link.name, link.domain_name, link.synced_at = sign_in.user_name, sign_in.domain_name, timezone.now()
        link.save()
        user = link.user
        keep = []
        for ks_project in sign_in.projects:
            role = _membership_role(ks_project.roles, wanted)
            if role is None:
                continue
            domain = Domain.objects.filter(keystone_id=ks_project.domain_id).first()
            if domain is None and ks_project.domain_name:
                domain = domain_upsert(keystone_id=ks_project.domain_id, name=ks_project.domain_name)
            project = project_upsert(keystone_id=ks_project.keystone_id, name=ks_project.name, domain=domain)
            keep.append(membership_grant(user=user, project=project, role=role).pk)
        ProjectMembership.objects.filter(user=user).exclude(pk__in=keep).delete()
        roles = sign_in.all_roles
        _set_group(user, ADMIN_GROUP, admin_role in roles)
        _set_group(user, FINANCE_GROUP, bool(finance_role) and finance_role in roles)
    return user


def _membership_role(roles: frozenset[str], wanted: set[str]) -> str | None:
    granted = roles & wanted
    if not granted:
        return None
    if "reader" in granted and len(granted) == 1:
        return ProjectMembership.Role.READER
    return ProjectMembership.Role.MEMBER


def _set_group(user, name: str, member: bool) -> None:
    group = Group.objects.get_or_create(name=name)[0]
    if member:
        user.groups.add(group)
    else:
        user.groups.remove(group)


def user_preference_set(*, user, time_zone: str, locale: str) -> UserPreference:
    pref, _ = UserPreference.objects.update_or_create(user=user, defaults={"time_zone": time_zone, "locale": locale})
    return pref


def billing_account_update(*, account: BillingAccount, name: str, mode: str, currency: str, contact_email: str):
    """Change an account's details; issued statements keep the name and mode they were issued with."""
    account.name, account.mode, account.currency, account.contact_email = name, mode, currency, contact_email
    account.save(update_fields=["name", "mode", "currency", "contact_email"])
    return account


@dataclass(frozen=True)
class KeystoneDomain:
    keystone_id: str
    name: str
    enabled: bool = True


@dataclass(frozen=True)
class KeystoneProject:
    keystone_id: str
    name: str
    domain_id: str
    enabled: bool = True


def tenants_sync(*, domains: list[KeystoneDomain], projects: list[KeystoneProject], now: dt.datetime) -> dict[str, int]:
    """Make domains and projects match a complete Keystone listing.

    New ones are created, renamed and disabled ones updated, and those Keystone no
    longer lists are marked deleted (never removed: their usage and statements stay).
    Must be given the *whole* listing: a partial one would mark the rest deleted.
    """
    counts = {"domains": 0, "projects": 0, "deleted_domains": 0, "deleted_projects": 0}
    with transaction.atomic():
        by_id: dict[str, Domain] = {}
        for d in domains:
            by_id[d.keystone_id], _ = Domain.objects.update_or_create(
                keystone_id=d.keystone_id, defaults={"name": d.name, "enabled": d.enabled, "deleted_at": None}
            )
            counts["domains"] += 1
        for p in projects:
            project = project_upsert(
                keystone_id=p.keystone_id, name=p.name, domain=by_id.get(p.domain_id), enabled=p.enabled
            )
            if project.deleted_at is not None:
                Project.objects.filter(pk=project.pk).update(deleted_at=None)
            counts["projects"] += 1
        listed = {p.keystone_id for p in projects}
        counts["deleted_projects"] = (
            Project.objects.filter(deleted_at__isnull=True)
            .exclude(keystone_id__in=listed)
            .update(deleted_at=now, enabled=False)
        )
        counts["deleted_domains"] = (
            Domain.objects.filter(deleted_at__isnull=True)
            .exclude(keystone_id__in=by_id.keys())
            .update(deleted_at=now, enabled=False)
        )
    return counts


def tenants_sync_from_keystone(*, conn, now: dt.datetime) -> dict[str, int]:
    """Read every Keystone domain and project through openstacksdk (`conn`) and sync them."""
    domains = [KeystoneDomain(d.id, d.name, bool(d.is_enabled)) for d in conn.identity.domains()]
    projects = [
        KeystoneProject(p.id, p.name, p.domain_id, bool(p.is_enabled))
        for p in conn.identity.projects()
        if not getattr(p, "is_domain", False)
    ]
    return tenants_sync(domains=domains, projects=projects, now=now)
