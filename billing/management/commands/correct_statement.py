from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from billing.models import Statement
from billing.services import BillingRefused, statement_correct, statement_void


class Command(BaseCommand):
    help = "Correct an issued invoice from the current rated usage (credit note / supplementary invoice), or void it."

    def add_arguments(self, parser):
        parser.add_argument("number", help="the issued invoice's number")
        parser.add_argument("--reason", required=True)
        parser.add_argument("--void", action="store_true", help="cancel it with a full credit note")

    def handle(self, *, number, reason, void, **options):
        statement = Statement.objects.filter(number=number).first()
        if statement is None:
            raise CommandError(f"no issued document numbered {number}")
        try:
            made = (
                [statement_void(statement=statement, reason=reason)]
                if void
                else statement_correct(statement=statement, reason=reason)
            )
        except BillingRefused as exc:
            raise CommandError(str(exc)) from None
        for doc in made:
            self.stdout.write(f"issued {doc.number} ({doc.get_kind_display()}): {doc.total:.2f} {doc.currency}")
        if not made:
            self.stdout.write(f"{number} already matches the rated usage: nothing to correct")
