from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from config.celery import app as celery_app
from rating.collectors.base import FLOATING_IP, INSTANCE, VOLUME
from tenants.models import Project
from tenants.services import membership_grant, project_upsert, user_make_finance

UTC = dt.UTC
PRICES = {
    (INSTANCE, "m1.tiny"): Decimal("0.0125"),
    (INSTANCE, "m1.small"): Decimal("0.0250"),
    (INSTANCE, "m1.medium"): Decimal("0.0500"),
    (INSTANCE, "m1.large"): Decimal("0.1000"),
    (INSTANCE, "m1.xlarge"): Decimal("0.2000"),
    (INSTANCE, "c1.large.eph"): Decimal("0.1370"),
    (VOLUME, "standard"): Decimal("0.00007"),
    (VOLUME, "ssd"): Decimal("0.00014"),
    (VOLUME, "high-iops"): Decimal("0.00031"),
    (FLOATING_IP, ""): Decimal("0.0050"),
}


@pytest.fixture(autouse=True)
def _celery_in_process():
    """Tasks run in-process unless a test starts a real worker."""
    celery_app.conf.task_always_eager = True
    yield


@pytest.fixture
def owner(db):
    """Owns project alpha."""
    user = get_user_model().objects.create_user("olivia", password="owner-pass-1")
    membership_grant(user=user, project=project_upsert(keystone_id="a" * 32, name="alpha"))
    return user


@pytest.fixture
def other_owner(db):
    """Owns project beta, and nothing of alpha's."""
    user = get_user_model().objects.create_user("oscar", password="owner-pass-2")
    membership_grant(user=user, project=project_upsert(keystone_id="b" * 32, name="beta"))
    return user


@pytest.fixture
def outsider(db):
    """Signed in, but with no role on any project."""
    return get_user_model().objects.create_user("nobody", password="outsider-pass")


@pytest.fixture
def finance(db):
    user = get_user_model().objects.create_user("fiona", password="finance-pass")
    user_make_finance(user=user)
    return user


@pytest.fixture
def alpha(owner) -> Project:
    return Project.objects.get(name="alpha")


@pytest.fixture
def beta(other_owner) -> Project:
    return Project.objects.get(name="beta")
