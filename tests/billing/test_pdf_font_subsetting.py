"""`manage.py check` warns when PDFs would be rendered the slow way (fonts subset by fontTools)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from weasyprint.text import ffi


def _check_output() -> str:
    out = io.StringIO()
    call_command("check", stdout=out, stderr=out)
    return out.getvalue()


def test_it_warns_an_operator_whose_machine_lacks_harfbuzz_subset(monkeypatch):
    monkeypatch.setattr(ffi, "harfbuzz_subset", None)
    output = _check_output()
    assert "billing.W001" in output and "libharfbuzz-subset0" in output


def test_it_is_quiet_where_harfbuzz_subset_is_installed():
    if ffi.harfbuzz_subset is None:
        pytest.fail("this machine lacks libharfbuzz-subset0, which .ci/run installs: PDFs render three times slower")
    assert "billing.W001" not in _check_output()
