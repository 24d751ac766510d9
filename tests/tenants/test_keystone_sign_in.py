"""Sign-in with Keystone credentials, against the real Keystone of the OpenStack peer."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from tenants.models import Project, ProjectMembership
from tenants.selectors import projects_visible_to, user_is_finance, user_is_rate_admin
from tenants.services import membership_grant, project_upsert
from tests.peers import keystone_url

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def keystone(settings):
    settings.TALLY_KEYSTONE_URL = keystone_url()
    settings.TALLY_KEYSTONE_FINANCE_ROLE = "finance"
    return settings


def _sign_in(client, username: str, password: str, domain: str):
    return client.post("/login/", {"username": username, "password": password, "domain": domain})


def _user(name: str):
    return get_user_model().objects.get(username=name)


def test_it_signs_in_a_member_and_shows_them_their_projects(client):
    response = _sign_in(client, "alice", "alice-pass", "acme")
    assert response.status_code == 302, response.content.decode()[:500]
    alice = _user("alice@acme")
    assert sorted(projects_visible_to(alice).values_list("name", flat=True)) == ["acme-data", "acme-web"]
    assert not user_is_rate_admin(alice) and not user_is_finance(alice)
    assert client.get("/projects/").status_code == 200


def test_it_gives_a_reader_their_project_as_a_reader(client):
    assert _sign_in(client, "bob", "bob-pass", "acme").status_code == 302
    bob = _user("bob@acme")
    memberships = list(ProjectMembership.objects.filter(user=bob).values_list("project__name", "role"))
    assert memberships == [("acme-web", "reader")]


def test_it_keeps_carol_out_of_acme(client):
    assert _sign_in(client, "carol", "carol-pass", "globex").status_code == 302
    carol = _user("carol@globex")
    assert list(projects_visible_to(carol).values_list("name", flat=True)) == ["globex-ml"]
    acme_web = Project.objects.filter(name="acme-web").first()
    if acme_web is not None:
        assert client.get(f"/projects/{acme_web.pk}/").status_code == 404


def test_it_makes_the_keystone_admin_a_tally_admin(client):
    assert _sign_in(client, "admin", "admin", "Default").status_code == 302
    assert user_is_rate_admin(_user("admin@Default"))
    assert client.get("/rates/").status_code == 200


def test_it_maps_the_configured_role_to_finance(client, keystone):
    keystone.TALLY_KEYSTONE_FINANCE_ROLE = "reader"  # bob is a reader of acme-web
    assert _sign_in(client, "bob", "bob-pass", "acme").status_code == 302
    assert user_is_finance(_user("bob@acme"))
    assert client.get("/finance/close/").status_code == 200


def test_it_refuses_a_wrong_password_or_domain(client):
    assert _sign_in(client, "alice", "not-her-password", "acme").status_code == 200
    assert _sign_in(client, "alice", "alice-pass", "globex").status_code == 200
    assert not get_user_model().objects.filter(username__startswith="alice").exists()


def test_it_removes_access_keystone_no_longer_grants(client):
    assert _sign_in(client, "carol", "carol-pass", "globex").status_code == 302
    carol = _user("carol@globex")
    membership_grant(user=carol, project=project_upsert(keystone_id="f" * 32, name="stale"))
    client.logout()
    assert _sign_in(client, "carol", "carol-pass", "globex").status_code == 302
    assert list(projects_visible_to(carol).values_list("name", flat=True)) == ["globex-ml"]


def test_it_never_takes_over_a_local_account_of_the_same_name(client):
    get_user_model().objects.create_user("alice@acme", password="local-secret-1")
    assert _sign_in(client, "alice", "alice-pass", "acme").status_code == 200
    assert not ProjectMembership.objects.exists()


def test_it_does_not_sign_in_keystone_users_when_keystone_is_off(client, keystone):
    keystone.TALLY_KEYSTONE_URL = ""
    assert _sign_in(client, "alice", "alice-pass", "acme").status_code == 200
