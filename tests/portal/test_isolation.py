"""Walk every URL pattern of the site as people who must not see alpha's data, and find no leak."""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from rating.models import RateCardVersion
from tenants.models import Project

pytestmark = pytest.mark.django_db

# Pages for finance or admins only: nobody else may even open them.
ROLE_PAGES = (
    "portal:close",
    "portal:statement_search",
    "portal:account",
    "portal:rate_card",
    "portal:sources",
    "portal:audit",
)


def _walk(resolver: URLResolver, prefix: str = "", ns: str = ""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            sub_ns = f"{ns}{entry.namespace}:" if entry.namespace else ns
            yield from _walk(entry, prefix + str(entry.pattern), sub_ns)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), f"{ns}{entry.name}" if entry.name else None


def _fill(route: str, values: dict[str, list[str]]) -> list[str]:
    """Every URL a route gives with the candidate values of its parameters."""
    route = route.lstrip("^").rstrip("$").replace("\\Z", "").replace("\\", "")
    names = re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)", route)
    urls = [route]
    for conv_name, regex_name in names:
        name = conv_name or regex_name
        filled = []
        for url in urls:
            for value in values.get(name, ["1"]):
                filled.append(re.sub(r"<(?:\w+:)?" + name + r">|\(\?P<" + name + r">[^)]*\)", value, url, count=1))
        urls = filled
    return ["/" + u for u in urls]


@pytest.fixture
def secrets(portal_data, alpha):
    statement = portal_data["alpha"]
    return {
        "markers": ["alpha", alpha.keystone_id, statement.number, "vm-alpha-1", "vol-alpha-1"],
        "values": {
            "pk": sorted(
                {
                    str(alpha.pk),
                    str(statement.pk),
                    str(alpha.billing_account_id),
                    str(RateCardVersion.objects.first().pk),
                    str(alpha.rated_usage.first().pk),
                }
            ),
            "object_id": [str(alpha.pk), str(statement.pk)],
            "app_label": ["tenants", "billing"],
            "model_name": ["project", "statement"],
            "path": ["x"],
            "url": ["x"],
            "content_type_id": ["1"],
            "uidb64": ["MQ"],
            "token": ["x"],
        },
    }


def _routes():
    return list(_walk(get_resolver()))


def _assert_no_leak(client, secrets, who: str, user=None):
    seen_names, checked = set(), 0
    for route, name in _routes():
        seen_names.add(name)
        for url in _fill(route, secrets["values"]):
            for method in ("get", "post"):
                if user is not None:
                    client.force_login(user)  # the walk passes /logout/ too
                response = getattr(client, method)(url)
                checked += 1
                body = response.content.decode(errors="replace") if response.status_code == 200 else ""
                leaked = [m for m in secrets["markers"] if m in body]
                assert not leaked, f"{who} {method.upper()} {url} ({name}) shows {leaked}"
                if name and name.startswith(ROLE_PAGES) and response.status_code == 200:
                    pytest.fail(f"{who} {method.upper()} {url} ({name}) answered 200")
    return seen_names, checked


def test_it_finds_every_portal_page_in_the_walk():
    names = {name for _, name in _routes()}
    for expected in [
        "portal:project_dashboard",
        "portal:project_costs_json",
        "portal:usage_explorer",
        "billing:statement_pdf",
        "portal:close_run",
        "portal:rate_card_new_version",
        "portal:sources",
    ]:
        assert expected in names


def test_it_shows_an_outsider_nothing_of_alpha_on_any_url(client, outsider, secrets):
    names, checked = _assert_no_leak(client, secrets, "outsider", outsider)
    assert checked > 100 and "portal:project_dashboard" in names


def test_it_shows_another_projects_owner_nothing_of_alpha_on_any_url(client, other_owner, secrets):
    _assert_no_leak(client, secrets, "beta's owner", other_owner)


def test_it_shows_anonymous_visitors_nothing_of_alpha_on_any_url(client, secrets):
    _assert_no_leak(client, secrets, "anonymous")


def test_it_shows_the_owner_their_own_data_so_the_markers_mean_something(client, owner, secrets, alpha):
    client.force_login(owner)
    dashboard = client.get(f"/projects/{alpha.pk}/").content.decode()
    assert "alpha" in dashboard and "alpha-web" in dashboard
    assert client.get(f"/projects/{alpha.pk}/costs.json").json()["project"]["name"] == "alpha"
    assert "vm-alpha-1" in client.get(f"/projects/{alpha.pk}/usage/?format=csv").content.decode()


def test_it_lets_finance_but_not_owners_open_finance_pages(client, owner, finance, portal_data):
    client.force_login(owner)
    assert client.get("/finance/close/").status_code == 403
    assert client.post("/finance/close/run/", {"month": "2026-10"}).status_code == 403
    client.force_login(finance)
    assert client.get("/finance/close/").status_code == 200
    assert client.get(f"/projects/{Project.objects.get(name='beta').pk}/").status_code == 200
