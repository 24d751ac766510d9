"""Every PDF variant rendered and rasterised with pdftoppm; the PNGs are kept in var/pdf-previews to look at."""

from __future__ import annotations

import io
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader

from billing.close import month_close
from billing.models import Statement
from billing.pdf import statement_pdf
from billing.services import statement_correct, statement_void
from rating.collectors.base import INSTANCE, VOLUME
from rating.models import UsageRecord
from rating.services import usage_rate_period
from tenants.services import project_upsert
from tests.billing.conftest import OCTOBER, usage

pytestmark = pytest.mark.django_db
PREVIEWS = Path(__file__).resolve().parent.parent.parent / "var" / "pdf-previews"


def _render(statement: Statement, name: str) -> tuple[str, list[Path]]:
    pdf = statement_pdf(statement=statement)
    PREVIEWS.mkdir(parents=True, exist_ok=True)
    (PREVIEWS / f"{name}.pdf").write_bytes(pdf)
    for old in PREVIEWS.glob(f"{name}-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(PREVIEWS / f"{name}.pdf"), str(PREVIEWS / name)], check=True)
    pngs = sorted(PREVIEWS.glob(f"{name}-*.png"))
    assert pngs and all(p.stat().st_size > 5000 for p in pngs)  # something was drawn on every page
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return " ".join(text.split()), pngs


@pytest.fixture
def closed(october):
    month_close(period_start=OCTOBER)
    return {s.account.mode: s for s in Statement.objects.filter(corrects=None)}


def test_it_renders_a_chargeback_invoice_with_everything_finance_sends(closed):
    text, pngs = _render(closed["chargeback"], "chargeback")
    invoice = closed["chargeback"]
    for expected in [
        "Tally Cloud Services", "Invoice", invoice.number, "Due date", "PO-4711", "Alpha Research Ltd",
        "Attn. Ada Payable", "Summary by service", "Instance hours", "Detail by project and resource",
        "Instance hours m1.large", "Standard v1", "VAT 21 %", f"{invoice.total:,.2f}", "Page 1 of 1",
        f"Tally Cloud Services · Invoice {invoice.number} · alpha",
    ]:  # fmt: skip
        assert expected in text, expected
    assert "NOT PAYABLE" not in text and len(pngs) == 1


def test_it_marks_a_showback_statement_not_payable(closed):
    text, _ = _render(closed["showback"], "showback")
    assert "SHOWBACK — FOR INFORMATION, NOT PAYABLE" in text and "Statement" in text and "Due date" not in text


def test_it_renders_a_credit_note_that_names_what_it_corrects(closed):
    note = statement_void(statement=closed["chargeback"], reason="duplicate invoice")
    text, _ = _render(note, "credit-note")
    assert "Credit note" in text and note.number in text and f"Corrects {closed['chargeback'].number}" in text
    assert "CREDIT NOTE — Void: duplicate invoice" in text and f"{note.total:,.2f}" in text


def test_it_renders_a_supplementary_invoice(closed):
    UsageRecord.objects.filter(price_key="ssd").update(quantity=6000)  # re-collected after issue
    [extra] = statement_correct(statement=closed["chargeback"], reason="late volume usage")
    text, _ = _render(extra, "supplementary")
    assert "SUPPLEMENTARY INVOICE — late volume usage" in text and f"corrects {closed['chargeback'].number}" in text


def test_it_breaks_a_long_statement_across_numbered_pages(october):
    alpha, _ = october
    for i in range(40):
        project = project_upsert(keystone_id=f"{i:032x}", name=f"research-{i:02d}")
        project.billing_account = alpha
        project.save()
        usage(project, INSTANCE, "m1.medium", f"{100 + i}.25", "hour")
        usage(project, VOLUME, "standard", f"{1000 * i}", "GiB-hour")
    usage_rate_period(period_start=OCTOBER)
    month_close(period_start=OCTOBER)
    text, pngs = _render(Statement.objects.get(account=alpha), "multi-page")
    assert len(pngs) >= 3 and f"Page {len(pngs)} of {len(pngs)}" in text and "research-39" in text


def test_the_logo_comes_from_the_environment(closed, settings, tmp_path):
    logo = tmp_path / "logo.svg"
    logo.write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="300" height="60"><rect width="300" height="60" fill="#c00"/>'
        '<text x="10" y="42" font-size="36" fill="#fff">ACME CLOUD</text></svg>'
    )
    settings.TALLY_PROVIDER_LOGO, settings.TALLY_PROVIDER_NAME = str(logo), "ACME Cloud"
    text, pngs = _render(closed["chargeback"], "custom-logo")
    assert "ACME Cloud" in text
    from PIL import Image

    red = sum(
        1 for px in Image.open(pngs[0]).convert("RGB").get_flattened_data() if px[0] > 180 and px[1] < 60 and px[2] < 60
    )
    assert red > 500, "the configured logo is not on the page"


def test_amounts_in_the_pdf_are_the_issued_amounts(closed):
    invoice = closed["chargeback"]
    text, _ = _render(invoice, "amounts")
    for line in invoice.lines.all():
        assert f"{line.amount:,.2f}" in text
    assert invoice.total > Decimal(0)


def test_the_cycle_collector_is_back_on_after_a_pdf_even_one_that_failed(closed, monkeypatch):
    # Rendering pauses Python's cycle collector; a worker left without it would grow until killed.
    import gc

    import weasyprint

    statement_pdf(statement=closed["chargeback"])
    assert gc.isenabled()

    def broken(*args, **kwargs):
        assert not gc.isenabled()  # paused while the document is laid out
        raise RuntimeError("layout failed")

    monkeypatch.setattr(weasyprint.HTML, "write_pdf", broken)
    with pytest.raises(RuntimeError, match="layout failed"):
        statement_pdf(statement=closed["chargeback"])
    assert gc.isenabled()
