"""What `manage.py check` says about billing's environment."""

from __future__ import annotations

from django.core import checks


def pdf_font_subsetting(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """WeasyPrint subsets each PDF's fonts; without HarfBuzz's C library it falls back to fontTools.

    fontTools re-parses DejaVu Sans for every PDF: a statement then costs about three times the
    CPU, which is the difference between a 1,000-account close in under two minutes and not.
    """
    from weasyprint.text.ffi import harfbuzz_subset

    if harfbuzz_subset is not None:
        return []
    return [
        checks.Warning(
            "HarfBuzz-Subset is not installed: WeasyPrint subsets the statements' fonts with fontTools, "
            "about three times slower, so the month close renders PDFs slowly.",
            hint="Install the libharfbuzz-subset0 package (Debian, Ubuntu) or your system's HarfBuzz subset library.",
            id="billing.W001",
        )
    ]
