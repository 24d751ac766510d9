from __future__ import annotations

import os

from django.core.management.base import BaseCommand
from django.utils import timezone

from billing.demo import demo_run


class Command(BaseCommand):
    help = "Load the built-in sample cloud, collect, rate and close its months, and create demo logins."

    def handle(self, **options):
        result = demo_run(now=timezone.now(), password=os.environ.get("TALLY_DEMO_PASSWORD") or None)
        months = ", ".join(f"{m:%Y-%m}" for m in result.months)
        self.stdout.write(
            f"Sample cloud collected, rated and closed for {months}: {result.statements} statements issued."
        )
        self.stdout.write("Sign in at http://127.0.0.1:8000 with:")
        for role, (user, password) in result.logins.items():
            self.stdout.write(f"  {role:<8} user {user:<8} password {password}")
