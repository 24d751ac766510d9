from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from rating.models import RateCard
from rating.selectors import rate_card_history


class Command(BaseCommand):
    help = "Show a rate card's history: who did what, when and why."

    def add_arguments(self, parser):
        parser.add_argument("name")

    def handle(self, *, name, **options):
        card = RateCard.objects.filter(name=name).first()
        if card is None:
            raise CommandError(f"no rate card named {name!r}")
        for e in rate_card_history(card=card):
            who = e.actor.get_username() if e.actor else "system"
            what = f"{e.action} {e.version or ''}".strip()
            self.stdout.write(f"{e.at:%Y-%m-%d %H:%M:%S} {who}: {what}" + (f" — {e.reason}" if e.reason else ""))
