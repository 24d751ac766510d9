"""Keystone sign-in: check a user's password and read the roles they hold, with their own token.

Only the user's credentials are used (no service account): an unscoped token proves the
password, then one rescoped token per project (and for the system scope, when Keystone
offers it) tells which roles the user holds there.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

log = logging.getLogger(__name__)


class KeystoneUnavailable(RuntimeError):
    pass


@dataclass(frozen=True)
class KeystoneProject:
    keystone_id: str
    name: str
    domain_id: str
    domain_name: str
    roles: frozenset[str]


@dataclass
class KeystoneSignIn:
    user_id: str
    user_name: str
    domain_name: str
    projects: list[KeystoneProject] = field(default_factory=list)
    system_roles: frozenset[str] = frozenset()

    @property
    def all_roles(self) -> set[str]:
        return set(self.system_roles).union(*(p.roles for p in self.projects))


def keystone_sign_in(
    *, auth_url: str, username: str, password: str, domain: str, timeout: int
) -> KeystoneSignIn | None:
    """None when Keystone refuses the credentials; KeystoneUnavailable when it cannot be asked."""
    sess = ks_session.Session(timeout=timeout)
    auth = v3.Password(auth_url=auth_url, username=username, password=password, user_domain_name=domain, unscoped=True)
    try:
        access = auth.get_access(sess)
        token = access.auth_token
        result = KeystoneSignIn(access.user_id, access.username, access.user_domain_name or domain)
        for project in _get(sess, f"{auth_url}/auth/projects", token).get("projects", []):
            roles, domain_name = _scoped(sess, auth_url, token, project_id=project["id"])
            result.projects.append(
                KeystoneProject(project["id"], project["name"], project["domain_id"], domain_name, roles)
            )
        if _get(sess, f"{auth_url}/auth/system", token).get("system"):
            result.system_roles, _ = _scoped(sess, auth_url, token, system_scope="all")
    except (ks_exc.Unauthorized, ks_exc.NotFound, ks_exc.BadRequest):
        return None
    except (ks_exc.ConnectFailure, ks_exc.ConnectTimeout, ks_exc.DiscoveryFailure, ks_exc.HttpError) as exc:
        raise KeystoneUnavailable(f"Keystone at {auth_url} cannot be reached: {exc}") from exc
    return result


def _get(sess: ks_session.Session, url: str, token: str) -> dict:
    return sess.get(url, headers={"X-Auth-Token": token}, authenticated=False).json()


def _scoped(sess: ks_session.Session, auth_url: str, token: str, **scope: str) -> tuple[frozenset[str], str]:
    """The roles a token scoped as asked carries, and the scoped project's domain name."""
    try:
        access = v3.Token(auth_url=auth_url, token=token, **scope).get_access(sess)
    except (ks_exc.Unauthorized, ks_exc.Forbidden):
        # A project that lists the user but refuses a token (disabled project) grants nothing.
        return frozenset(), ""
    return frozenset(access.role_names), getattr(access, "project_domain_name", None) or ""
