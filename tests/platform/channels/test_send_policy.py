"""message_send: the one interface, with the contact policy applied in it (consent, suppression, caps, quiet
hours), transactional exemptions, and the held reasons recorded on the message."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import pytest
from django.utils import timezone, translation

from guanxi.customers.models import ContactPoint
from guanxi.customers.models.choices import Consent
from guanxi.platform.channels.backends import memory
from guanxi.platform.channels.models import (
    HeldReason,
    MessageStatus,
    OutboundMessage,
    Suppression,
    SuppressionReason,
)
from guanxi.platform.channels.policy import contact_policy, quiet_hours_end
from guanxi.platform.channels.services import (
    contact_unsubscribe,
    message_mark_bounced,
    message_send,
    messages_retry_due,
)
from guanxi.platform.core.errors import NotFound, PermissionDenied, ValidationFailed
from tests.platform.channels.conftest import CUSTOMER, make_customer, set_policy

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def send(actor: Any, customer: Any, **kwargs: Any) -> OutboundMessage:
    params = {"channel": "email", "subject": "春季新品", "body": "{{ name }}，您好！"} | kwargs
    return message_send(actor=actor, record_type=CUSTOMER, record_id=customer.pk, **params)


def test_marketing_email_with_consent_is_rendered_queued_and_delivered_after_commit(
    org: Any, django_capture_on_commit_callbacks: Any
) -> None:
    customer = make_customer(org.rep_north)
    with django_capture_on_commit_callbacks(execute=True):
        message = send(org.actor("marketer"), customer)
    assert message.status == MessageStatus.QUEUED and message.held_reason == ""
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT and message.attempts == 1 and message.provider == "memory"
    assert message.to_address == "zhang.wei@example.com" and message.created_by == org.marketer
    [sent] = memory.outbox
    assert sent.to == "zhang.wei@example.com" and sent.subject == "春季新品"
    assert sent.body.startswith("张伟，您好！\n\n--\n如不想再收到此类邮件，请点击退订：http://testserver/unsubscribe/")
    assert sent.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert sent.headers["List-Unsubscribe"].endswith("/one-click/>")


def test_marketing_without_consent_is_held_with_the_reason(org: Any, django_capture_on_commit_callbacks: Any) -> None:
    customer = make_customer(org.rep_north, consent=Consent.UNKNOWN)
    with django_capture_on_commit_callbacks(execute=True):
        message = send(org.actor("marketer"), customer)
    assert message.status == MessageStatus.HELD
    assert message.held_reason == HeldReason.NO_CONSENT
    assert message.held_params == {"channel": "email", "consent": "unknown"}
    with translation.override("en"):
        assert message.held_reason_text == (
            "Marketing needs consent for Email on this contact point; its consent is “Not asked”."
        )
    assert memory.outbox == []
    assert OutboundMessage.objects.get().status == MessageStatus.HELD


def test_frequency_cap_holds_the_second_message_and_records_why(
    org: Any, django_capture_on_commit_callbacks: Any
) -> None:
    set_policy(email_cap_count=1, email_cap_days=7)
    customer = make_customer(org.rep_north)
    other = make_customer(org.rep_north, name="李娜", email="li.na@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        first = send(org.actor("marketer"), customer)
        second = send(org.actor("marketer"), customer)
        elsewhere = send(org.actor("marketer"), other)
    first.refresh_from_db()
    assert first.status == MessageStatus.SENT
    assert second.status == MessageStatus.HELD and second.held_reason == HeldReason.FREQUENCY_CAP
    assert second.held_params == {"count": 1, "limit": 1, "days": 7, "channel": "email"}
    with translation.override("en"):
        assert second.held_reason_text == (
            "Frequency cap: 1 of at most 1 marketing messages by Email in the last 7 days."
        )
    with translation.override("zh-hans"):
        assert "1" in second.held_reason_text
    assert OutboundMessage.objects.get(pk=elsewhere.pk).status == MessageStatus.SENT
    assert [m.to for m in memory.outbox] == ["zhang.wei@example.com", "li.na@example.com"]


def test_cap_counts_only_marketing_in_the_period_and_channel(org: Any) -> None:
    set_policy(email_cap_count=1, email_cap_days=7)
    customer = make_customer(org.rep_north, phone="+8613800138000")
    old = send(org.actor("marketer"), customer)
    OutboundMessage.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=8))
    send(org.actor("marketer"), customer, purpose="transactional")
    held = OutboundMessage.objects.create(
        channel="email",
        purpose="marketing",
        status="held",
        to_address="x@example.com",
        record_type=CUSTOMER,
        record_id=customer.pk,
        language="zh-hans",
    )
    assert held.status == "held"
    again = send(org.actor("marketer"), customer)
    assert again.status == MessageStatus.QUEUED
    text = message_send(
        actor=org.actor("marketer"), channel="sms", record_type=CUSTOMER, record_id=customer.pk, body="春季上新"
    )
    assert text.status == MessageStatus.QUEUED


def test_caps_can_be_switched_off_or_left_empty(org: Any) -> None:
    customer = make_customer(org.rep_north)
    set_policy(email_cap_count=None)
    assert [send(org.actor("marketer"), customer).status for _ in range(4)] == ["queued"] * 4
    set_policy(email_cap_count=1, caps_enabled=False)
    assert send(org.actor("marketer"), customer).status == "queued"


def test_quiet_hours_defer_marketing_to_their_end_and_the_job_sends_it_then(
    org: Any, django_capture_on_commit_callbacks: Any
) -> None:
    now = timezone.now().astimezone(SHANGHAI)
    start = (now - dt.timedelta(hours=1)).time().replace(second=0, microsecond=0)
    end = (now + dt.timedelta(hours=1)).time().replace(second=0, microsecond=0)
    set_policy(quiet_hours_enabled=True, quiet_start=start, quiet_end=end, quiet_time_zone="Asia/Shanghai")
    customer = make_customer(org.rep_north)
    with django_capture_on_commit_callbacks(execute=True):
        message = send(org.actor("marketer"), customer)
    assert message.status == MessageStatus.QUEUED and message.held_reason == HeldReason.QUIET_HOURS
    assert message.is_deferred
    expected_end = (now + dt.timedelta(hours=1)).replace(second=0, microsecond=0)
    assert message.next_attempt_at == expected_end
    assert message.held_params == {"until": expected_end.isoformat()}
    assert memory.outbox == []
    assert messages_retry_due() == 0  # not due before the quiet hours end
    assert messages_retry_due(now=expected_end + dt.timedelta(seconds=1)) == 1
    message.refresh_from_db()
    # The delivery re-checks the policy at the real time, which is still inside quiet hours: deferred again.
    assert message.status == MessageStatus.QUEUED and message.next_attempt_at == expected_end
    set_policy(quiet_hours_enabled=False)
    assert messages_retry_due(now=expected_end + dt.timedelta(seconds=1)) == 1
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT and [m.to for m in memory.outbox] == ["zhang.wei@example.com"]


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        ("2025-03-01 22:30", "2025-03-02 08:00"),  # after the start: until tomorrow morning
        ("2025-03-02 07:59", "2025-03-02 08:00"),  # early morning: until this morning
        ("2025-03-02 08:00", None),  # the end itself is not quiet
        ("2025-03-02 12:00", None),
        ("2025-03-02 21:00", "2025-03-03 08:00"),
    ],
)
def test_quiet_hours_over_midnight_in_their_own_time_zone(db: None, local: str, expected: str | None) -> None:
    policy = contact_policy()
    policy.quiet_hours_enabled = True
    policy.quiet_start, policy.quiet_end = dt.time(21, 0), dt.time(8, 0)
    policy.quiet_time_zone = "Asia/Shanghai"
    now = dt.datetime.fromisoformat(local).replace(tzinfo=SHANGHAI).astimezone(dt.UTC)
    end = quiet_hours_end(policy, "sms", now)
    assert (end.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if end else None) == expected
    policy.quiet_channels = ["email"]
    assert quiet_hours_end(policy, "sms", now) is None


def test_quiet_hours_within_one_day(db: None) -> None:
    policy = contact_policy()
    policy.quiet_hours_enabled, policy.quiet_start, policy.quiet_end = True, dt.time(12, 0), dt.time(14, 0)
    policy.quiet_time_zone = "Europe/Berlin"
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    inside = dt.datetime(2025, 6, 1, 13, 0, tzinfo=berlin)
    assert quiet_hours_end(policy, "email", inside) == dt.datetime(2025, 6, 1, 14, 0, tzinfo=berlin)
    assert quiet_hours_end(policy, "email", dt.datetime(2025, 6, 1, 11, 59, tzinfo=berlin)) is None


def test_transactional_messages_are_exempt_from_consent_caps_and_quiet_hours(
    org: Any, django_capture_on_commit_callbacks: Any
) -> None:
    now = timezone.now().astimezone(SHANGHAI)
    set_policy(
        email_cap_count=0,
        quiet_hours_enabled=True,
        quiet_start=(now - dt.timedelta(hours=1)).time(),
        quiet_end=(now + dt.timedelta(hours=1)).time(),
    )
    customer = make_customer(org.rep_north, consent=Consent.WITHDRAWN)
    with django_capture_on_commit_callbacks(execute=True):
        marketing = send(org.actor("marketer"), customer)
        shipped = send(
            org.actor("rep_north"),
            customer,
            subject="订单已发货",
            body="{{ name }}，您的订单已发货。",
            purpose="transactional",
        )
    assert marketing.status == MessageStatus.HELD and marketing.held_reason == HeldReason.NO_CONSENT
    shipped.refresh_from_db()
    assert shipped.status == MessageStatus.SENT and shipped.held_reason == ""
    [sent] = memory.outbox
    assert sent.body == "张伟，您的订单已发货。" and sent.headers == {}  # no unsubscribe footer or headers


def test_an_unsubscribed_address_stays_unsubscribed_when_entered_again(
    org: Any, django_capture_on_commit_callbacks: Any
) -> None:
    customer = make_customer(org.rep_north)
    changed = contact_unsubscribe(channel="email", address="Zhang.Wei@Example.com ", source="unsubscribe link")
    assert changed == 1
    point = ContactPoint.objects.get(customer=customer)
    assert (point.consent, point.consent_source) == (Consent.WITHDRAWN, "unsubscribe link")
    assert point.history.first().history_change_reason == "unsubscribe link"
    suppression = Suppression.objects.get()
    assert (suppression.address, suppression.reason) == ("zhang.wei@example.com", SuppressionReason.UNSUBSCRIBED)
    # The same address on a new customer, with consent ticked again: still no marketing.
    again = make_customer(org.rep_south, name="张伟2", email="zhang.wei@example.com", consent=Consent.GRANTED)
    with django_capture_on_commit_callbacks(execute=True):
        held = send(org.actor("marketer"), again)
        receipt = send(org.actor("admin"), again, purpose="transactional", subject="收据", body="收据")
    assert held.status == MessageStatus.HELD and held.held_reason == HeldReason.UNSUBSCRIBED
    with translation.override("en"):
        assert held.held_reason_text == "The address unsubscribed (unsubscribe link) and gets no marketing messages."
    receipt.refresh_from_db()
    assert receipt.status == MessageStatus.SENT  # unsubscribing is from marketing only
    assert contact_unsubscribe(channel="email", address="zhang.wei@example.com", source="again") == 1
    assert Suppression.objects.count() == 1


def test_sms_keyword_unsubscribe_withdraws_consent_of_that_number(org: Any) -> None:
    customer = make_customer(org.rep_north, email=None, phone="+8613800138000")
    assert contact_unsubscribe(channel="sms", address="138 0013 8000", source="SMS TD") == 1
    assert ContactPoint.objects.get(customer=customer).consent == Consent.WITHDRAWN
    message = message_send(
        actor=org.actor("marketer"), channel="sms", record_type=CUSTOMER, record_id=customer.pk, body="春季上新"
    )
    assert message.held_reason == HeldReason.UNSUBSCRIBED
    with pytest.raises(ValidationFailed) as failed:
        contact_unsubscribe(channel="fax", address="1", source="x")
    assert failed.value.fields == {"channel": ["Choose a channel from the list."]}


def test_a_bounced_address_gets_no_message_at_all(org: Any, django_capture_on_commit_callbacks: Any) -> None:
    customer = make_customer(org.rep_north)
    with django_capture_on_commit_callbacks(execute=True):
        first = send(org.actor("admin"), customer, purpose="transactional")
    first.refresh_from_db()
    bounced = message_mark_bounced(provider_message_id=first.provider_message_id, reason="550 no such user")
    assert bounced is not None and bounced.status == MessageStatus.BOUNCED and bounced.bounced_at is not None
    assert Suppression.objects.get().reason == SuppressionReason.BOUNCED
    with django_capture_on_commit_callbacks(execute=True):
        second = send(org.actor("admin"), customer, purpose="transactional")
    assert second.status == MessageStatus.HELD and second.held_reason == HeldReason.BLOCKED
    with translation.override("en"):
        assert second.held_reason_text == "The address is blocked for every message: Bounced."
    assert message_mark_bounced(provider_message_id="<nobody@nowhere>") is None
    assert message_mark_bounced(message_id=first.pk) == bounced  # idempotent


def test_sms_marketing_gets_the_unsubscribe_keyword_in_the_recipient_language(
    org: Any, django_capture_on_commit_callbacks: Any
) -> None:
    customer = make_customer(org.rep_north, email=None, phone="+8613800138000")
    with django_capture_on_commit_callbacks(execute=True):
        message = message_send(
            actor=org.actor("marketer"),
            channel="sms",
            record_type=CUSTOMER,
            record_id=customer.pk,
            body="【关系】{{ name }}，春季新品上市",
        )
    assert message.body == "【关系】张伟，春季新品上市回复TD退订"
    assert memory.outbox[0].to == "+8613800138000"
    already = message_send(
        actor=org.actor("marketer"),
        channel="sms",
        record_type=CUSTOMER,
        record_id=customer.pk,
        body="新品上市，回T退订",
    )
    assert already.body == "新品上市，回T退订"


def test_bad_input_is_refused_with_clear_messages_and_nothing_is_stored(org: Any) -> None:
    customer = make_customer(org.rep_north, phone=None)
    marketer = org.actor("marketer")
    cases = [
        ({"channel": "fax"}, {"channel": ["Choose a channel from the list."]}),
        ({"purpose": "spam"}, {"purpose": ["Choose a purpose from the list."]}),
        ({"channel": "sms", "body": "hi"}, {"to_address": ["This record has no mobile phone number."]}),
        ({"body": ""}, {"body": ["Write the message or choose a template."]}),
        ({"subject": ""}, {"subject": ["An email needs a subject."]}),
        ({"body": "{{ nmae }}"}, {"body": ["Line 1: “nmae” is not a merge field of this record type."]}),
        (
            {"to_address": "other@example.com"},
            {"to_address": ["Choose one of this record's addresses for this channel."]},
        ),
        (
            {"template_id": 999},
            {
                "template_id": ["Choose an active template from the list."],
                "body": ["Send either a template or your own text, not both."],
            },
        ),
    ]
    for kwargs, fields in cases:
        with pytest.raises(ValidationFailed) as failed:
            send(marketer, customer, **kwargs)
        assert failed.value.fields == fields, kwargs
    with pytest.raises(ValidationFailed) as failed:
        message_send(actor=marketer, channel="email", record_type="rockets", record_id=1, body="x")
    assert failed.value.fields == {"record_type": ["Messages cannot be sent to this kind of record."]}
    assert OutboundMessage.objects.count() == 0


def test_permissions_and_visibility(org: Any) -> None:
    mine = make_customer(org.rep_north)
    theirs = make_customer(org.rep_south, email="south@example.com")
    with pytest.raises(PermissionDenied):
        send(org.actor("rep_north"), mine)  # reps send transactional messages only
    assert send(org.actor("rep_north"), mine, purpose="transactional").status == MessageStatus.QUEUED
    with pytest.raises(NotFound):
        send(org.actor("rep_north"), theirs, purpose="transactional")
    with pytest.raises(PermissionDenied):
        send(org.actor("analyst"), mine, purpose="transactional")
    system = message_send(actor=None, channel="email", record_type=CUSTOMER, record_id=theirs.pk, subject="s", body="b")
    assert system.created_by is None and system.status == MessageStatus.QUEUED
    with pytest.raises(NotFound):
        message_send(actor=None, channel="email", record_type=CUSTOMER, record_id=987654, subject="s", body="b")


def test_to_address_picks_another_of_the_record_addresses(org: Any) -> None:
    customer = make_customer(org.rep_north)
    ContactPoint.objects.create(customer=customer, kind="email", value="work@example.com", consent="granted")
    message = send(org.actor("marketer"), customer, to_address="WORK@example.com")
    assert message.to_address == "work@example.com"
    assert send(org.actor("marketer"), customer).to_address == "zhang.wei@example.com"  # the primary one


def test_lead_messages_are_transactional_only_until_consent(org: Any, django_capture_on_commit_callbacks: Any) -> None:
    from tests.factories import LeadFactory

    lead = LeadFactory(owner=org.rep_north, name="王芳", email="wang@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        marketing = message_send(
            actor=org.actor("marketer"),
            channel="email",
            record_type="customers.lead",
            record_id=lead.pk,
            subject="新品",
            body="{{ name }}",
        )
        reply = message_send(
            actor=org.actor("rep_north"),
            channel="email",
            record_type="customers.lead",
            record_id=lead.pk,
            subject="资料",
            body="{{ name }}，资料已发送",
            purpose="transactional",
        )
    assert marketing.held_reason == HeldReason.NO_CONSENT
    reply.refresh_from_db()
    assert reply.status == MessageStatus.SENT and memory.outbox[0].body == "王芳，资料已发送"
