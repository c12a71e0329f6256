"""Webhook test fixtures: a real HTTP receiver on 127.0.0.1, a closed port, subscriptions, customer events."""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.utils import timezone

from guanxi.customers.events import CustomerCreated, CustomerDeleted
from guanxi.customers.models import Customer
from guanxi.platform.core.actors import Actor
from guanxi.platform.events.registry import Event, publish
from guanxi.platform.webhooks import services
from guanxi.platform.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from tests.factories import CustomerFactory


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """What the test server answers (`statuses` in turn, then `default_status`) and what it received."""

    port: int = 0
    statuses: deque[int] = field(default_factory=deque)
    default_status: int = 200
    response_body: bytes = b'{"ok":true}'
    extra_headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    requests: list[Received] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/guanxi"

    def answer(self, *statuses: int) -> None:
        self.statuses.extend(statuses)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        receiver = self.server.receiver
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        receiver.requests.append(Received(path=self.path, headers=dict(self.headers.items()), body=body))
        if receiver.delay:
            time.sleep(receiver.delay)
        status = receiver.statuses.popleft() if receiver.statuses else receiver.default_status
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(receiver.response_body)))
        for name, value in receiver.extra_headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(receiver.response_body)

    def log_message(self, format: str, *args: Any) -> None:
        return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    receiver: Receiver

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):  # the client gave up (the timeout test)
            return
        super().handle_error(request, client_address)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """An HTTP server on 127.0.0.1 (a free port) in a thread, recording every POST."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.receiver = Receiver(port=server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, name="webhook-receiver", daemon=True)
    thread.start()
    try:
        yield server.receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (connection refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/hooks"


def subscribe(actor: Actor, url: str, events: list[str] | None = None, **extra: Any) -> tuple[WebhookSubscription, str]:
    return services.subscription_create(
        actor=actor,
        name=extra.pop("name", "ERP"),
        url=url,
        event_types=events if events is not None else ["customer.created"],
        **extra,
    )


def make_deliveries(subscription: WebhookSubscription, count: int, **fields: Any) -> list[WebhookDelivery]:
    """`count` finished deliveries of `subscription`, written directly (for the log's lists)."""
    now = timezone.now()
    return WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                subscription=subscription,
                event_id=f"{subscription.pk}-{i}-{fields.get('event_name', 'customer.created')}",
                event_name=fields.get("event_name", "customer.created"),
                record_type="customers.customer",
                occurred_at=now,
                payload={"record_id": i},
                status=fields.get("status", DeliveryStatus.SUCCEEDED),
                attempts=1,
                max_attempts=8,
                last_response_code=200,
            )
            for i in range(count)
        ]
    )


@pytest.fixture
def publish_customer_created(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> Callable[[Customer | None], Event]:
    """Publish `customer.created` (the customers app's registered payload) and run everything after commit:
    the event subscribers, the deliveries they create and the attempts, as the worker would."""

    def run(customer: Customer | None = None) -> Event:
        customer = customer or CustomerFactory(name="王小明")
        with django_capture_on_commit_callbacks(execute=True):
            event = publish(
                CustomerCreated(
                    record_id=customer.pk,
                    kind=customer.kind,
                    name=customer.name,
                    owner_id=customer.owner_id,
                    team_id=customer.team_id,
                    lifecycle_stage=customer.lifecycle_stage,
                )
            )
        return event

    return run


@pytest.fixture
def publish_customer_deleted(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> Callable[[int], Event]:
    def run(record_id: int) -> Event:
        with django_capture_on_commit_callbacks(execute=True):
            return publish(CustomerDeleted(record_id=record_id, name="已删除"))

    return run
