from __future__ import annotations

from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self) -> None:
        from django.core import checks

        from billing.checks import pdf_font_subsetting

        checks.register(pdf_font_subsetting)
