"""Filing inbound messages: matching senders to customers and leads, leads for unknown senders, duplicates,
failures that keep the message, unsubscribe keywords, bounces, and the inbox managers' actions."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from guanxi.customers.models import Customer, Interaction, Lead
from guanxi.customers.models.choices import ContactKind, Direction, LeadStatus, Source
from guanxi.platform.core.errors import Conflict, PermissionDenied, StaleVersion, ValidationFailed
from guanxi.platform.inbox import services
from guanxi.platform.inbox.draft import BounceReport, InboundDraft
from guanxi.platform.inbox.models import InboundMessage, MatchReason, MatchStatus
from guanxi.platform.inbox.registry import sender_handlers
from tests.platform.inbox.conftest import customer_with, lead_with


def sms(text: str = "好的，明天见", sender: str = "13812345678", message_id: str = "seq-1") -> InboundDraft:
    return InboundDraft(
        channel="sms", provider="aliyun", provider_message_id=message_id, from_raw=sender, body_text=text,
        received_at=timezone.now() - dt.timedelta(minutes=1),
    )  # fmt: skip


def mail(sender: str = "Wang.Fang@Example.com", message_id: str = "<m1@example.com>", **extra: Any) -> InboundDraft:
    return InboundDraft(
        channel="email", provider="webhook", provider_message_id=message_id, from_raw=sender, from_name="王芳",
        subject="报价咨询", body_text="请发报价。", received_at=timezone.now() - dt.timedelta(minutes=5), **extra,
    )  # fmt: skip


def wechat(open_id: str = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", message_id: str = "6001") -> InboundDraft:
    return InboundDraft(
        channel="wechat", provider="wechat_mp", provider_message_id=message_id, from_raw=open_id, body_text="你好"
    )


def test_email_from_a_known_address_goes_on_the_customers_timeline(org: Any) -> None:
    customer = customer_with(org.rep_north, ContactKind.EMAIL, "wang.fang@example.com")
    message, created = services.inbound_receive(draft=mail())
    assert created is True
    assert (message.match_status, message.record_type, message.record_id) == (
        MatchStatus.MATCHED,
        "customers.customer",
        customer.pk,
    )
    assert message.from_address == "wang.fang@example.com" and message.from_address_valid
    interaction = Interaction.objects.get(pk=message.timeline_id)
    assert (interaction.customer_id, interaction.lead_id, interaction.channel, interaction.direction) == (
        customer.pk,
        None,
        "email",
        Direction.INBOUND,
    )
    assert (interaction.subject, interaction.body, interaction.user_id) == ("报价咨询", "请发报价。", None)
    customer.refresh_from_db()
    assert customer.last_contact_at == message.received_at
    assert (message.attempts, message.error, message.match_reason) == (1, "", MatchReason.NONE)


def test_sms_matches_the_e164_phone(org: Any) -> None:
    customer = customer_with(org.rep_south, ContactKind.PHONE, "+8613812345678")
    message, _created = services.inbound_receive(draft=sms())
    assert (message.from_address, message.record_id, message.match_status) == (
        "+8613812345678",
        customer.pk,
        MatchStatus.MATCHED,
    )
    assert Interaction.objects.get(pk=message.timeline_id).channel == "sms"


def test_wechat_matches_the_open_id_exactly(org: Any) -> None:
    customer_with(org.rep_north, ContactKind.WECHAT, "oupf8umuajo_m2pxb1q9znjwes6o")  # another open id
    customer = customer_with(org.rep_north, ContactKind.WECHAT, "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o")
    message, _created = services.inbound_receive(draft=wechat())
    assert (message.record_type, message.record_id) == ("customers.customer", customer.pk)
    assert Interaction.objects.filter(customer=customer, channel="wechat").count() == 1


def test_a_shared_address_goes_to_the_most_recently_contacted_customer(org: Any) -> None:
    now = timezone.now()
    old = customer_with(org.rep_north, ContactKind.PHONE, "+8613812345678", last_contact_at=now - dt.timedelta(days=9))
    recent = customer_with(
        org.rep_south, ContactKind.PHONE, "+8613812345678", last_contact_at=now - dt.timedelta(days=1)
    )
    never = customer_with(org.rep_south, ContactKind.PHONE, "+8613812345678")
    message, _created = services.inbound_receive(draft=sms())
    assert message.record_id == recent.pk
    assert message.other_candidates == [old.pk, never.pk]
    assert message.match_reason == MatchReason.AMBIGUOUS
    assert not Interaction.objects.filter(customer__in=[old, never]).exists()


def test_a_lead_with_the_address_gets_the_message_when_no_customer_has_it(org: Any) -> None:
    lead_with(org.rep_north, email="wang.fang@example.com", status=LeadStatus.CONVERTED)
    lead = lead_with(org.rep_north, email="wang.fang@example.com")
    phone_lead = lead_with(org.rep_north, phone="+8613812345678", phone_search_key="8765432183168")
    message, _created = services.inbound_receive(draft=mail())
    assert (message.match_status, message.record_type, message.record_id) == (
        MatchStatus.MATCHED,
        "customers.lead",
        lead.pk,
    )
    assert Interaction.objects.get(pk=message.timeline_id).lead_id == lead.pk
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW  # a message from them is not us contacting them
    by_phone, _created = services.inbound_receive(draft=sms())
    assert by_phone.record_id == phone_lead.pk


def test_an_unknown_sender_becomes_a_lead_with_the_message_on_it(org: Any, settings: Any) -> None:
    settings.GUANXI_INBOX_LEAD_OWNER = "rep_south"
    message, _created = services.inbound_receive(draft=mail(sender="new.person@example.com"))
    assert message.match_status == MatchStatus.LEAD_CREATED
    lead = Lead.objects.get(pk=message.record_id)
    assert (lead.name, lead.email, lead.phone, lead.source, lead.status) == (
        "王芳",
        "new.person@example.com",
        "",
        Source.OTHER,
        LeadStatus.NEW,
    )
    assert (lead.owner_id, lead.team_id) == (org.rep_south.pk, org.south.pk)
    assert lead.name_pinyin == "wangfang"
    assert Interaction.objects.get(pk=message.timeline_id).lead_id == lead.pk


def test_an_unknown_sms_sender_becomes_an_unowned_lead_named_by_the_number(org: Any) -> None:
    message, _created = services.inbound_receive(draft=sms(sender="13900001111"))
    lead = Lead.objects.get(pk=message.record_id)
    assert (lead.name, lead.phone, lead.phone_search_key, lead.owner_id) == (
        "+8613900001111",
        "+8613900001111",
        "1111000093168",
        None,
    )


def test_no_lead_when_lead_creation_is_off(org: Any, settings: Any) -> None:
    settings.GUANXI_INBOX_CREATE_LEADS = False
    message, _created = services.inbound_receive(draft=mail(sender="new.person@example.com"))
    assert (message.match_status, message.match_reason, message.record_type) == (
        MatchStatus.UNMATCHED,
        MatchReason.NO_MATCH,
        "",
    )
    assert not Lead.objects.exists()


def test_automatic_replies_from_strangers_make_no_lead(org: Any) -> None:
    message, _created = services.inbound_receive(draft=mail(sender="robot@example.com", automated=True))
    assert (message.match_status, message.match_reason) == (MatchStatus.IGNORED, MatchReason.AUTOMATED_UNKNOWN)
    assert not Lead.objects.exists()


def test_an_unreadable_sender_is_kept_unmatched(org: Any) -> None:
    message, _created = services.inbound_receive(draft=sms(sender="10690000"))
    assert (message.from_address, message.from_address_valid) == ("10690000", False)
    assert (message.match_status, message.match_reason) == (MatchStatus.UNMATCHED, MatchReason.UNREADABLE_SENDER)
    assert not Lead.objects.exists()


def test_the_same_provider_message_is_stored_once(org: Any) -> None:
    customer = customer_with(org.rep_north, ContactKind.PHONE, "+8613812345678")
    first, created_first = services.inbound_receive(draft=sms())
    again, created_again = services.inbound_receive(draft=sms(text="a retried push with the same id"))
    assert (created_first, created_again, again.pk) == (True, False, first.pk)
    assert InboundMessage.objects.count() == 1
    assert Interaction.objects.filter(customer=customer).count() == 1
    other_provider, created = services.inbound_receive(
        draft=InboundDraft(channel="sms", provider="tencent", provider_message_id="seq-1", from_raw="13812345678")
    )
    assert created is True and other_provider.pk != first.pk


def test_an_email_message_id_is_stored_once_whichever_door_it_came_through(org: Any) -> None:
    first, _created = services.inbound_receive(draft=mail())
    again, created = services.inbound_receive(
        draft=InboundDraft(channel="email", provider="imap", provider_message_id="<m1@example.com>", from_raw="x@y.cn")
    )
    assert (created, again.pk) == (False, first.pk)


def _failing_handler(monkeypatch: Any) -> None:
    handler = next(h for h in sender_handlers() if h.code == "customers")

    def explode(envelope: Any) -> Any:
        Customer.objects.create(name="half-written")  # rolled back with the rest
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(
        "guanxi.platform.inbox.registry._handlers",
        {"customers": handler.__class__(**{**handler.__dict__, "find_and_attach": explode})},
    )


def test_a_failure_keeps_the_message_marked_failed_and_writes_nothing_else(org: Any, monkeypatch: Any) -> None:
    _failing_handler(monkeypatch)
    message, created = services.inbound_receive(draft=mail())
    assert created is True
    assert (message.match_status, message.error, message.attempts) == (
        MatchStatus.ERROR,
        "RuntimeError: database hiccup",
        1,
    )
    assert not Customer.objects.filter(name="half-written").exists()
    assert not Interaction.objects.exists() and not Lead.objects.exists()


def test_a_failed_message_is_retried_by_an_inbox_manager(org: Any, monkeypatch: Any) -> None:
    customer = customer_with(org.rep_north, ContactKind.EMAIL, "wang.fang@example.com")
    with monkeypatch.context() as patch:
        _failing_handler(patch)
        failed, _created = services.inbound_receive(draft=mail())
    with pytest.raises(PermissionDenied):
        services.inbound_message_retry(actor=org.actor("rep_north"), message=failed)
    retried = services.inbound_message_retry(actor=org.actor("manager_north"), message=failed)
    assert (retried.match_status, retried.record_id, retried.error, retried.attempts) == (
        MatchStatus.MATCHED,
        customer.pk,
        "",
        2,
    )
    with pytest.raises(Conflict):
        services.inbound_message_retry(actor=org.actor("manager_north"), message=retried)


def test_sms_unsubscribe_keyword_withdraws_consent_through_channels(org: Any, monkeypatch: Any) -> None:
    calls: list[dict[str, str]] = []

    def fake_unsubscribe(**kwargs: str) -> int:
        calls.append(kwargs)
        return 2

    monkeypatch.setattr(services, "contact_unsubscribe", fake_unsubscribe)
    customer = customer_with(org.rep_north, ContactKind.PHONE, "+8613812345678")
    message, _created = services.inbound_receive(draft=sms(text=" ＴＤ "))
    assert calls == [{"channel": "sms", "address": "+8613812345678", "source": "sms keyword"}]
    assert (message.unsubscribe_requested, message.unsubscribed_count) == (True, 2)
    assert (message.match_status, message.record_id) == (MatchStatus.MATCHED, customer.pk)
    stranger, _created = services.inbound_receive(draft=sms(text="退订", sender="13900001111", message_id="seq-2"))
    assert (stranger.match_status, stranger.match_reason) == (MatchStatus.IGNORED, MatchReason.UNSUBSCRIBE_UNKNOWN)
    assert not Lead.objects.exists()
    plain, _created = services.inbound_receive(draft=sms(text="TD 我想了解更多", message_id="seq-3"))
    assert plain.unsubscribe_requested is False and len(calls) == 2


def test_a_bounce_marks_the_outbound_message_through_channels(org: Any, monkeypatch: Any) -> None:
    calls: list[dict[str, Any]] = []

    def fake_mark(**kwargs: Any) -> object:
        calls.append(kwargs)
        return object()

    monkeypatch.setattr(services, "message_mark_bounced", fake_mark)
    report = BounceReport(
        original_message_id="<guanxi.42.1@mail.example>",
        recipients=({"recipient": "nobody@example.com", "action": "failed", "status": "5.1.1", "diagnostic": "550"},),
    )
    message, _created = services.inbound_receive(draft=mail(sender="MAILER-DAEMON@mx.example.com", bounce=report))
    assert calls == [
        {
            "provider_message_id": "<guanxi.42.1@mail.example>",
            "reason": "nobody@example.com 5.1.1 550",
            "permanent": True,
        }
    ]
    assert (message.match_status, message.match_reason, message.bounce_of) == (
        MatchStatus.IGNORED,
        MatchReason.BOUNCE,
        "<guanxi.42.1@mail.example>",
    )
    assert message.metadata["bounce"]["recipients"][0]["status"] == "5.1.1"
    assert not Lead.objects.exists()


def test_a_bounce_nobody_sent_is_ignored_with_the_reason(org: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(services, "message_mark_bounced", lambda **kwargs: None)
    soft = BounceReport(original_message_id="<x@y>", recipients=({"action": "failed", "status": "4.2.2"},))
    message, _created = services.inbound_receive(draft=mail(bounce=soft))
    assert (message.match_status, message.match_reason) == (MatchStatus.IGNORED, MatchReason.BOUNCE_NOT_RECORDED)
    delayed = BounceReport(original_message_id="<x@y>", recipients=({"action": "delayed", "status": "4.4.7"},))
    report, _created = services.inbound_receive(draft=mail(message_id="<m2@example.com>", bounce=delayed))
    assert report.match_reason == MatchReason.DELIVERY_REPORT


def test_interaction_logged_is_published_for_a_filed_message(
    org: Any, delivered: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    customer = customer_with(org.rep_north, ContactKind.EMAIL, "wang.fang@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        message, _created = services.inbound_receive(draft=mail())
    logged = [event for event in delivered if event.name == "interaction.logged"]
    assert [(e.record_id, e.payload["customer_id"], e.payload["direction"]) for e in logged] == [
        (message.timeline_id, customer.pk, "inbound")
    ]


def test_lead_created_is_published_for_an_unknown_sender(
    org: Any, delivered: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        message, _created = services.inbound_receive(draft=mail(sender="new@example.com"))
    assert [e.record_id for e in delivered if e.name == "lead.created"] == [message.record_id]


# Manual filing --------------------------------------------------------------------------------------


def _unmatched(org: Any, settings: Any) -> InboundMessage:
    settings.GUANXI_INBOX_CREATE_LEADS = False
    message, _created = services.inbound_receive(draft=mail(sender="stranger@example.com"))
    assert message.match_status == MatchStatus.UNMATCHED
    return message


def test_a_manager_files_an_unmatched_message_on_a_customer(org: Any, settings: Any) -> None:
    message = _unmatched(org, settings)
    customer = customer_with(org.rep_north, ContactKind.EMAIL, "wang.fang@example.com")
    filed = services.inbound_message_assign(
        actor=org.actor("manager_north"), message=message, record_type="customers.customer", record_id=customer.pk,
        expected_version=message.version,
    )  # fmt: skip
    assert (filed.match_status, filed.record_id, filed.match_reason, filed.filed_by_id) == (
        MatchStatus.MATCHED,
        customer.pk,
        MatchReason.FILED_BY_HAND,
        org.manager_north.pk,
    )
    assert Interaction.objects.get(pk=filed.timeline_id).customer_id == customer.pk
    assert filed.version == message.version + 1


def test_filing_elsewhere_moves_the_timeline_entry(org: Any) -> None:
    first = customer_with(org.rep_north, ContactKind.EMAIL, "wang.fang@example.com")
    second = customer_with(org.rep_north_sub, ContactKind.PHONE, "+8613700000000")
    message, _created = services.inbound_receive(draft=mail())
    assert message.record_id == first.pk
    moved = services.inbound_message_assign(
        actor=org.actor("manager_north"), message=message, record_type="customers.customer", record_id=second.pk
    )
    assert not Interaction.objects.filter(customer=first).exists()
    assert Interaction.objects.get(pk=moved.timeline_id).customer_id == second.pk
    first.refresh_from_db()
    assert first.last_contact_at is None
    with pytest.raises(ValidationFailed) as again:
        services.inbound_message_assign(
            actor=org.actor("manager_north"), message=moved, record_type="customers.customer", record_id=second.pk
        )
    assert again.value.fields == {"record_id": ["The message is already filed on this record."]}


def test_a_manager_cannot_file_on_a_record_they_cannot_see(org: Any, settings: Any) -> None:
    message = _unmatched(org, settings)
    version = message.version
    south = customer_with(org.rep_south, ContactKind.EMAIL, "south@example.com")
    with pytest.raises(ValidationFailed) as refused:
        services.inbound_message_assign(
            actor=org.actor("manager_north"), message=message, record_type="customers.customer", record_id=south.pk
        )
    assert refused.value.fields == {"record_id": ["Choose a record you can see."]}
    message.refresh_from_db()
    assert (message.match_status, message.version) == (MatchStatus.UNMATCHED, version)
    with pytest.raises(ValidationFailed) as bad:
        services.inbound_message_assign(
            actor=org.actor("manager_north"),
            message=message,
            record_type="rockets",
            record_id="x",  # type: ignore[arg-type]
        )
    assert bad.value.fields == {"record_type": ["Choose a customer or a lead."], "record_id": ["Choose a record."]}


def test_a_rep_may_not_file_messages_and_does_not_see_unmatched_ones(org: Any, settings: Any) -> None:
    message = _unmatched(org, settings)
    customer = customer_with(org.rep_north, ContactKind.EMAIL, "wang.fang@example.com")
    with pytest.raises(PermissionDenied):
        services.inbound_message_assign(
            actor=org.actor("rep_north"), message=message, record_type="customers.customer", record_id=customer.pk
        )
    with pytest.raises(PermissionDenied):
        services.inbound_message_create_lead(actor=org.actor("rep_north"), message=message)
    with pytest.raises(PermissionDenied):
        services.inbound_message_retry(actor=org.actor("marketer"), message=message)


def test_a_stale_version_is_refused(org: Any, settings: Any) -> None:
    message = _unmatched(org, settings)
    customer = customer_with(org.rep_north, ContactKind.EMAIL, "wang.fang@example.com")
    with pytest.raises(StaleVersion):
        services.inbound_message_assign(
            actor=org.actor("manager_north"), message=message, record_type="customers.customer",
            record_id=customer.pk, expected_version=message.version + 3,
        )  # fmt: skip


def test_a_manager_creates_a_lead_they_own_from_an_unmatched_message(org: Any, settings: Any) -> None:
    message = _unmatched(org, settings)
    filed = services.inbound_message_create_lead(actor=org.actor("manager_north"), message=message, name=" 王 芳 ")
    lead = Lead.objects.get(pk=filed.record_id)
    assert (lead.name, lead.email, lead.owner_id, lead.source) == (
        "王 芳",
        "stranger@example.com",
        org.manager_north.pk,
        Source.OTHER,
    )
    assert (filed.match_status, filed.match_reason) == (MatchStatus.LEAD_CREATED, MatchReason.FILED_BY_HAND)
    assert Interaction.objects.get(pk=filed.timeline_id).lead_id == lead.pk
    with pytest.raises(Conflict):
        services.inbound_message_create_lead(actor=org.actor("manager_north"), message=filed)


def test_no_lead_from_an_unreadable_address(org: Any) -> None:
    message, _created = services.inbound_receive(draft=sms(sender="10690000"))
    with pytest.raises(ValidationFailed) as refused:
        services.inbound_message_create_lead(actor=org.actor("manager_north"), message=message)
    assert list(refused.value.fields) == ["from_address"]
    assert not Lead.objects.exists()


def test_messages_left_waiting_are_filed_by_the_periodic_job(org: Any) -> None:
    from guanxi.platform.core.jobs import periodic_jobs, run_periodic_job

    customer = customer_with(org.rep_north, ContactKind.EMAIL, "wang.fang@example.com")
    message, _created = services.inbound_receive(draft=mail())
    Interaction.objects.all().delete()
    InboundMessage.objects.filter(pk=message.pk).update(
        match_status=MatchStatus.PENDING, record_type="", record_id=None, updated_at=timezone.now()
    )
    assert run_periodic_job("inbox.file_waiting") == 0  # just stored: its request may still be filing it
    InboundMessage.objects.filter(pk=message.pk).update(updated_at=timezone.now() - dt.timedelta(minutes=3))
    assert run_periodic_job("inbox.file_waiting") == 1
    message.refresh_from_db()
    assert (message.match_status, message.record_id) == (MatchStatus.MATCHED, customer.pk)
    assert run_periodic_job("inbox.file_waiting") == 0
    assert next(job for job in periodic_jobs() if job.name == "inbox.file_waiting").minute == "*/5"
