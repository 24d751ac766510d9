"""Login rate limiting, CSRF, cookies and security headers."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_it_locks_a_user_out_after_repeated_failures_even_with_the_right_password(client, owner, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        client.post("/login/", {"username": "olivia", "password": "wrong"})
    locked = client.post("/login/", {"username": "olivia", "password": "owner-pass-1"})
    assert locked.status_code == 429 and "Too many failed sign-ins" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_signs_in_a_local_user_with_the_right_password(client, owner):
    response = client.post("/login/", {"username": "olivia", "password": "owner-pass-1"})
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(owner.pk)


def test_it_refuses_a_post_without_a_csrf_token(owner, finance):
    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/login/", {"username": "olivia", "password": "owner-pass-1"}).status_code == 403
    strict.force_login(finance)
    assert strict.post("/finance/close/run/", {"month": "2026-10"}).status_code == 403


def test_it_sends_security_headers(client, owner):
    client.force_login(owner)
    response = client.get("/projects/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]
    assert "no-store" in response["Cache-Control"]


def test_it_marks_cookies_secure_and_http_only_outside_debug(monkeypatch):
    import importlib

    import config.settings as tally_settings

    monkeypatch.setenv("TALLY_DEBUG", "0")
    monkeypatch.setenv("SECRET_KEY", "x" * 50)
    monkeypatch.delenv("TALLY_SECURE_COOKIES", raising=False)
    try:
        reloaded = importlib.reload(tally_settings)
        assert reloaded.SESSION_COOKIE_SECURE and reloaded.CSRF_COOKIE_SECURE and reloaded.SESSION_COOKIE_HTTPONLY
        assert reloaded.SECURE_HSTS_SECONDS > 0
    finally:
        monkeypatch.undo()
        importlib.reload(tally_settings)
