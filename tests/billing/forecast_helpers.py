"""Usage written straight into UsageRecord, so a test knows every day's spend exactly."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from rating.collectors.base import INSTANCE
from rating.models import UsageRecord
from rating.services import rate_card_publish
from tests.conftest import PRICES

SMALL = PRICES[(INSTANCE, "m1.small")]  # EUR 0.025 an hour


def prices_publish(effective_from: dt.date = dt.date(2026, 1, 1)):
    return rate_card_publish(
        name="Standard", currency="EUR", effective_from=effective_from, prices=PRICES, backdate=True, note="test prices"
    )


def spend(project, day: dt.date, euros: Decimal | int | float, *, resource: str = "vm-1", hour: int = 0) -> None:
    """Record m1.small hours in the hour `hour` of `day` costing exactly `euros`."""
    start = dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC)
    UsageRecord.objects.create(
        source="test",
        window_start=start,
        project=project,
        resource_id=resource,
        metric=INSTANCE,
        price_key="m1.small",
        start=start,
        end=start + dt.timedelta(hours=1),
        quantity=Decimal(str(euros)) / SMALL,  # 1 / 0.025 = 40: exact
        unit="hour",
    )


def spend_days(project, first: dt.date, amounts, **kwargs) -> None:
    for i, euros in enumerate(amounts):
        spend(project, first + dt.timedelta(days=i), euros, **kwargs)


class WebhookReceiver:
    """A real HTTP server on a free loopback port that records what it is sent and answers
    with the status codes it is told to (then 200)."""

    def __init__(self, statuses: tuple[int, ...] = ()) -> None:
        import http.server
        import threading

        self.requests: list[tuple[dict, bytes]] = []
        self.statuses = list(statuses)
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/tally"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def closed_port_url() -> str:
    """A loopback URL nobody listens on: bind a port, then let it go."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/hooks/tally"
