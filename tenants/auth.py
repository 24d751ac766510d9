"""Sign-in backends: local accounts, and Keystone users (user, password, domain)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.backends import ModelBackend

from tenants.keystone import KeystoneUnavailable, keystone_sign_in
from tenants.services import keystone_user_sync

log = logging.getLogger(__name__)


def axes_username(request, credentials: dict | None) -> str:
    """Failures are counted per user *in a domain*: alice@acme and a local alice are two people."""
    data = credentials or getattr(request, "POST", {}) or {}
    username, domain = data.get("username") or "", (data.get("domain") or "").strip()
    return f"{username}@{domain}" if domain else username


class LocalBackend(ModelBackend):
    """A Tally account; only when no Keystone domain was given, so names never cross over."""

    def authenticate(self, request, username=None, password=None, domain=None, **kwargs):
        if domain:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class KeystoneBackend(ModelBackend):
    """A Keystone user of a domain; their role assignments decide what they see."""

    def authenticate(self, request, username=None, password=None, domain=None, **kwargs):
        if not (domain and username and password and settings.TALLY_KEYSTONE_URL):
            return None
        try:
            sign_in = keystone_sign_in(
                auth_url=settings.TALLY_KEYSTONE_URL.rstrip("/"),
                username=username,
                password=password,
                domain=domain,
                timeout=settings.TALLY_KEYSTONE_TIMEOUT,
            )
        except KeystoneUnavailable:
            log.exception("Keystone sign-in of %s@%s failed", username, domain)
            return None
        if sign_in is None:
            return None
        try:
            user = keystone_user_sync(
                sign_in=sign_in,
                project_roles=settings.TALLY_KEYSTONE_PROJECT_ROLES,
                admin_role=settings.TALLY_KEYSTONE_ADMIN_ROLE,
                finance_role=settings.TALLY_KEYSTONE_FINANCE_ROLE,
            )
        except PermissionError:
            log.warning("Keystone user %s@%s collides with a local account", username, domain)
            return None
        return user if self.user_can_authenticate(user) else None
