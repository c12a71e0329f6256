"""Delivery: one attempt per task, retries with exponential backoff up to a maximum, the idempotent retry job,
re-checking the policy when a message waited, delivery reports and manual resending."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from guanxi.customers.models import ContactPoint
from guanxi.platform.channels.backends import memory
from guanxi.platform.channels.backends.base import PermanentError, RetryableError
from guanxi.platform.channels.models import HeldReason, OutboundMessage
from guanxi.platform.channels.services import (
    contact_unsubscribe,
    message_deliver,
    message_record_delivery_report,
    message_retry,
    message_send,
    messages_retry_due,
)
from guanxi.platform.channels.services.delivery import backoff
from guanxi.platform.core.errors import Conflict, NotFound
from guanxi.platform.core.jobs import periodic_jobs, run_periodic_job
from tests.platform.channels.conftest import CUSTOMER, make_customer


def queue(actor: Any, customer: Any, purpose: str = "transactional") -> OutboundMessage:
    return message_send(
        actor=actor,
        channel="email",
        record_type=CUSTOMER,
        record_id=customer.pk,
        subject="通知",
        body="您好",
        purpose=purpose,
    )


def waited(message: OutboundMessage) -> float:
    """Seconds between the failed attempt (when the row was written) and the planned next one."""
    assert message.next_attempt_at is not None
    return (message.next_attempt_at - message.updated_at).total_seconds()


def test_retry_job_is_registered_every_minute() -> None:
    job = next(job for job in periodic_jobs() if job.name == "channels.retry_due")
    assert (job.minute, job.hour) == ("*", "*")


def test_backoff_doubles_from_the_base_up_to_the_cap(settings: Any) -> None:
    settings.GUANXI_CHANNELS = {**settings.GUANXI_CHANNELS, "retry_base_seconds": 60, "retry_max_seconds": 300}
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4, 5)] == [60, 120, 240, 300, 300]


def test_retryable_failures_back_off_then_the_message_is_sent(
    org: Any, django_capture_on_commit_callbacks: Any
) -> None:
    customer = make_customer(org.rep_north)
    memory.fail_next(RetryableError("isv.BUSINESS_LIMIT_CONTROL", "触发流控"), times=2)
    started = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        message = queue(org.actor("admin"), customer)
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error_code) == ("queued", 1, "isv.BUSINESS_LIMIT_CONTROL")
    assert message.last_error == "触发流控" and message.claim_token == ""
    assert message.next_attempt_at > started
    assert waited(message) == pytest.approx(60, abs=2)  # the base delay after the first failure
    assert messages_retry_due() == 0  # not due yet
    assert messages_retry_due(now=message.next_attempt_at + dt.timedelta(seconds=1)) == 1
    message.refresh_from_db()
    assert message.attempts == 2 and message.status == "queued"
    assert waited(message) == pytest.approx(120, abs=2)  # doubled after the second
    assert messages_retry_due(now=message.next_attempt_at + dt.timedelta(seconds=1)) == 1
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == ("sent", 3, "")
    assert message.sent_at is not None and len(memory.outbox) == 1


def test_after_the_last_attempt_the_message_fails(
    org: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.GUANXI_CHANNELS = {**settings.GUANXI_CHANNELS, "max_attempts": 3}
    customer = make_customer(org.rep_north)
    memory.fail_next(RetryableError("timeout", "the provider did not answer in time"), times=5)
    with django_capture_on_commit_callbacks(execute=True):
        message = queue(org.actor("admin"), customer)
    later = timezone.now() + dt.timedelta(days=1)
    assert messages_retry_due(now=later) == 1
    assert messages_retry_due(now=later) == 1
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error_code) == ("failed", 3, "timeout")
    assert message.failed_at is not None and message.next_attempt_at is None
    assert messages_retry_due(now=later) == 0
    assert memory.outbox == []


def test_a_permanent_error_fails_at_once(org: Any, django_capture_on_commit_callbacks: Any) -> None:
    customer = make_customer(org.rep_north)
    memory.fail_next(PermanentError("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号"))
    with django_capture_on_commit_callbacks(execute=True):
        message = queue(org.actor("admin"), customer)
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error_code) == ("failed", 1, "isv.MOBILE_NUMBER_ILLEGAL")


def test_an_unexpected_exception_counts_as_a_retryable_failure(
    org: Any, monkeypatch: Any, django_capture_on_commit_callbacks: Any
) -> None:
    customer = make_customer(org.rep_north)

    def explode(self: Any, message: Any) -> Any:
        raise KeyError("Code")

    monkeypatch.setattr(memory.MemoryBackend, "send", explode)
    with django_capture_on_commit_callbacks(execute=True):
        message = queue(org.actor("admin"), customer)
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error_code) == ("queued", 1, "error")
    assert message.last_error == "KeyError: 'Code'"


def test_a_claimed_message_is_not_sent_twice(org: Any) -> None:
    customer = make_customer(org.rep_north)
    message = queue(org.actor("admin"), customer)  # no on-commit delivery in this test
    from guanxi.platform.channels.services.delivery import _claim

    token = _claim(message.pk, timezone.now())
    assert token
    assert message_deliver(message.pk) == "skipped"  # another attempt owns it
    assert messages_retry_due(now=timezone.now() + dt.timedelta(minutes=5)) == 0
    assert message_deliver(message.pk, claim="not-the-token") == "skipped"
    assert message_deliver(message.pk, claim=token) == "sent"
    assert message_deliver(message.pk) == "skipped"  # already sent
    assert len(memory.outbox) == 1


def test_an_expired_claim_is_taken_over_by_the_job(org: Any) -> None:
    customer = make_customer(org.rep_north)
    message = queue(org.actor("admin"), customer)
    OutboundMessage.objects.filter(pk=message.pk).update(
        claim_token="dead-worker", claimed_until=timezone.now() - dt.timedelta(seconds=1)
    )
    assert messages_retry_due(now=timezone.now() + dt.timedelta(minutes=3)) == 1
    message.refresh_from_db()
    assert message.status == "sent" and message.claim_token == ""


def test_the_job_leaves_fresh_messages_to_their_own_task_and_runs_twice_safely(org: Any) -> None:
    customer = make_customer(org.rep_north)
    message = queue(org.actor("admin"), customer)
    assert run_periodic_job("channels.retry_due") == 0  # queued a moment ago: its own task will send it
    lost = timezone.now() + dt.timedelta(minutes=3)  # its task never ran (the enqueue was lost)
    assert messages_retry_due(now=lost) == 1
    assert messages_retry_due(now=lost) == 0
    message.refresh_from_db()
    assert message.status == "sent" and len(memory.outbox) == 1


def test_a_waiting_marketing_message_is_held_when_the_address_unsubscribes(org: Any) -> None:
    customer = make_customer(org.rep_north)
    message = queue(org.actor("marketer"), customer, purpose="marketing")
    contact_unsubscribe(channel="email", address="zhang.wei@example.com", source="unsubscribe link")
    assert message_deliver(message.pk) == "held"
    message.refresh_from_db()
    assert (message.status, message.held_reason) == ("held", HeldReason.UNSUBSCRIBED)
    assert memory.outbox == []


def test_a_waiting_marketing_message_is_held_when_consent_is_withdrawn(org: Any) -> None:
    customer = make_customer(org.rep_north)
    message = queue(org.actor("marketer"), customer, purpose="marketing")
    ContactPoint.objects.filter(customer=customer).update(consent="withdrawn")
    assert message_deliver(message.pk) == "held"
    message.refresh_from_db()
    assert message.held_params == {"channel": "email", "consent": "withdrawn"}


def test_delivery_reports_mark_sent_messages_delivered_or_failed(
    org: Any, django_capture_on_commit_callbacks: Any
) -> None:
    customer = make_customer(org.rep_north)
    with django_capture_on_commit_callbacks(execute=True):
        ok = queue(org.actor("admin"), customer)
        bad = queue(org.actor("admin"), customer)
    ok.refresh_from_db()
    bad.refresh_from_db()
    delivered = message_record_delivery_report(
        provider="memory", provider_message_id=ok.provider_message_id, delivered=True
    )
    assert delivered is not None and delivered.status == "delivered" and delivered.delivered_at is not None
    failed = message_record_delivery_report(
        provider="memory",
        provider_message_id=bad.provider_message_id,
        delivered=False,
        error_code="MK:0001",
        error_text="空号",
    )
    assert failed is not None and (failed.status, failed.last_error_code, failed.last_error) == (
        "failed",
        "MK:0001",
        "空号",
    )
    again = message_record_delivery_report(
        provider="memory", provider_message_id=ok.provider_message_id, delivered=False
    )
    assert again is not None and again.status == "delivered"  # a late failure report does not undo delivery
    assert message_record_delivery_report(provider="memory", provider_message_id="nope", delivered=True) is None


def test_a_failed_message_can_be_sent_again(org: Any, django_capture_on_commit_callbacks: Any) -> None:
    customer = make_customer(org.rep_north)
    memory.fail_next(PermanentError("smtp_550", "mailbox full"))
    with django_capture_on_commit_callbacks(execute=True):
        message = queue(org.actor("rep_north"), customer)
    with django_capture_on_commit_callbacks(execute=True):
        retried = message_retry(actor=org.actor("rep_north"), message_id=message.pk)
    assert retried.attempts == 0
    message.refresh_from_db()
    assert (message.status, message.attempts, message.failed_at) == ("sent", 1, None)
    with pytest.raises(Conflict):
        message_retry(actor=org.actor("rep_north"), message_id=message.pk)
    with pytest.raises(NotFound):
        message_retry(actor=org.actor("rep_south"), message_id=message.pk)
