"""Issue 4, point 10: the win-back rule end to end, through the real job queue and worker, to an SMTP server.

An administrator's rule says "when a customer's stage becomes 沉睡 (dormant) and they have email consent,
send the win-back email and create a follow-up task for the owner". A rep marks a customer dormant; the write
commits; its `customer.updated` event goes onto the huey queue (a SQLite file, as `make run` uses); a huey
consumer thread — the same consumer `guanxi worker` runs — delivers the event to the automation engine, which
sends the email through the channels interface (delivered by another queued job to an aiosmtpd server on
127.0.0.1) and creates the task. A second time within the frequency cap, the email is held back with the
reason recorded, while the task is still created.
"""

from __future__ import annotations

import email
import socket
import threading
import time
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.db import connections
from huey.signals import SIGNAL_COMPLETE, SIGNAL_ERROR, SIGNAL_EXECUTING

from guanxi.customers.models import Task
from guanxi.customers.models.choices import Consent, ContactKind
from guanxi.customers.services.customers import customer_update
from guanxi.platform.automation.models import RuleRun, RunStatus
from guanxi.platform.automation.services import rule_create
from guanxi.platform.channels.models import MessageStatus, OutboundMessage
from guanxi.platform.channels.services.policy import contact_policy_update
from guanxi.platform.channels.services.templates import message_template_create
from guanxi.platform.core.jobs import get_huey, reset_huey
from guanxi.platform.core.management.commands.guanxi_worker import build_consumer
from tests.factories import ContactPointFactory, CustomerFactory

pytestmark = pytest.mark.django_db(transaction=True)


class Mailbox:
    """An aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=default_policy)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def mailbox(settings: Any) -> Iterator[Mailbox]:
    box = Mailbox()
    for _attempt in range(5):  # another process may take the free port before the server binds it
        port = _free_port()
        controller = Controller(box, hostname="127.0.0.1", port=port)
        try:
            controller.start()
        except (OSError, RuntimeError, TimeoutError):
            continue
        break
    else:
        pytest.fail("no local SMTP server could be started")
    settings.GUANXI_CHANNELS = {
        **settings.GUANXI_CHANNELS,
        "email": {
            "BACKEND": "guanxi.platform.channels.backends.smtp.SmtpBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "use_tls": False, "timeout": 30,
                        "from_email": "关系 CRM <crm@shop.example.cn>"},
        },
    }  # fmt: skip
    try:
        yield box
    finally:
        controller.stop()


class WorkerProbe:
    """Counts the jobs the consumer is running, so the test reads the database only while the worker is idle
    (SQLite's shared in-memory test database refuses a read during another thread's write)."""

    def __init__(self) -> None:
        self.running = 0
        self.lock = threading.Lock()

    def __call__(self, signal: str, task: Any, *args: Any) -> None:
        with self.lock:
            if signal == SIGNAL_EXECUTING:
                self.running += 1
            elif signal in (SIGNAL_COMPLETE, SIGNAL_ERROR):
                # The worker thread's connection would keep PostgreSQL from dropping the test database.
                connections.close_all()
                self.running -= 1

    def idle(self) -> bool:
        with self.lock:
            return self.running == 0 and len(get_huey()) == 0


@pytest.fixture
def worker(settings: Any, tmp_path: Any) -> Iterator[Callable[[Callable[[], bool]], None]]:
    """The real queue (huey on a SQLite file) and the worker's consumer in a thread; yields
    `wait_until(condition)`, which checks `condition` whenever the worker has nothing left to do."""
    settings.TASKS = {"default": {"BACKEND": "guanxi.platform.core.jobs.HueyTaskBackend"}}
    settings.GUANXI_HUEY = {"name": "acceptance", "redis_url": "", "sqlite_path": str(tmp_path / "huey.db"),
                            "immediate": False}  # fmt: skip
    reset_huey()
    probe = WorkerProbe()
    get_huey().signal()(probe)
    consumer = build_consumer(workers=1, worker_type="thread", periodic=False)
    consumer.start()

    def wait_until(condition: Callable[[], bool], timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            time.sleep(0.2)
            if probe.idle() and condition():
                return
        raise AssertionError(f"the worker did not get there within {timeout} s")

    try:
        yield wait_until
    finally:
        consumer.stop(graceful=True)
        reset_huey()


def test_dormant_customer_with_consent_gets_the_win_back_email_and_the_owner_a_task(
    org: Any, mailbox: Mailbox, worker: Callable[[Callable[[], bool]], None]
) -> None:
    admin = org.actor("admin")
    contact_policy_update(
        actor=admin,
        data={"quiet_hours_enabled": False, "caps_enabled": True, "email_cap_count": 1, "email_cap_days": 30},
        version=None,
    )
    template = message_template_create(
        actor=admin,
        data={"name": "唤醒老客户", "channel": "email", "purpose": "marketing", "record_type": "customers.customer",
              "subject_zh": "{{ name }}，好久不见", "body_zh": "{{ name }}您好！{{ owner_name }}为您准备了回归礼。",
              "subject_en": "We miss you, {{ name }}", "body_en": "Hello {{ name }}, {{ owner_name }} has a gift."},
    )  # fmt: skip
    rule = rule_create(
        actor=admin,
        data={
            "name": "沉睡客户唤醒",
            "record_type": "customers.customer",
            "trigger_kind": "field_change",
            "trigger_config": {"field": "lifecycle_stage", "to": "dormant"},
            "conditions": {"all": [{"field": "email_consent", "op": "eq", "value": True}]},
            "actions": [
                {"type": "send_message", "params": {"channel": "email", "template_id": template.pk,
                                                    "purpose": "marketing"}},
                {"type": "customers.create_task", "params": {"title": "回访 {record}", "due_in_days": 2,
                                                             "assignee": "owner"}},
            ],
            "is_active": True,
        },
    )  # fmt: skip
    customer = CustomerFactory(owner=org.rep_north, name="王芳", lifecycle_stage="active")
    ContactPointFactory(customer=customer, kind=ContactKind.EMAIL, value="wang.fang@example.cn",
                        search_key="wang.fang@example.cn", consent=Consent.GRANTED)  # fmt: skip
    without_consent = CustomerFactory(owner=org.rep_north, name="李雷", lifecycle_stage="active")
    ContactPointFactory(customer=without_consent, kind=ContactKind.EMAIL, value="li.lei@example.cn",
                        search_key="li.lei@example.cn", consent=Consent.UNKNOWN)  # fmt: skip
    rep = org.actor("rep_north")

    customer_update(actor=rep, customer=customer, data={"lifecycle_stage": "dormant"})
    customer_update(actor=rep, customer=without_consent, data={"lifecycle_stage": "dormant"})
    worker(lambda: len(mailbox.messages) == 1 and RuleRun.objects.filter(rule=rule).count() == 2)

    sent = OutboundMessage.objects.get(record_id=customer.pk)
    assert (sent.status, sent.channel, sent.to_address, sent.template_id) == (
        MessageStatus.SENT, "email", "wang.fang@example.cn", template.pk,
    )  # fmt: skip
    received = mailbox.messages[0]
    assert received["To"] == "wang.fang@example.cn"
    assert received["Subject"] == "We miss you, 王芳"  # the customer has no language: the installation's (en)
    assert f"Hello 王芳, {org.rep_north} has a gift." in received.get_body(("plain",)).get_content()
    task = Task.objects.get(customer=customer)
    assert (task.title, task.assignee_id, task.status) == ("回访 王芳", org.rep_north.pk, "open")
    runs = {run.record_id: run for run in RuleRun.objects.filter(rule=rule)}
    assert runs[customer.pk].status == RunStatus.SUCCEEDED
    assert runs[without_consent.pk].status == RunStatus.SKIPPED
    assert not Task.objects.filter(customer=without_consent).exists()
    assert not OutboundMessage.objects.filter(record_id=without_consent.pk).exists()

    # Back to active and dormant again within 30 days: the cap of one email holds the second back, with why.
    customer.refresh_from_db()
    customer_update(actor=rep, customer=customer, data={"lifecycle_stage": "active"})
    customer.refresh_from_db()
    customer_update(actor=rep, customer=customer, data={"lifecycle_stage": "dormant"})
    worker(lambda: OutboundMessage.objects.filter(record_id=customer.pk).count() == 2 and Task.objects.filter(
        customer=customer).count() == 2)  # fmt: skip

    held = OutboundMessage.objects.filter(record_id=customer.pk).latest("pk")
    assert held.status == MessageStatus.HELD
    assert held.held_reason == "frequency_cap"
    assert len(mailbox.messages) == 1
    assert RuleRun.objects.filter(rule=rule, record_id=customer.pk, status=RunStatus.SUCCEEDED).count() == 2
