"""The inbox with the real channels app: an SMS unsubscribe keyword withdraws consent and suppresses the
number; a delivery status notification marks the outbound email bounced."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from guanxi.customers.models import ContactPoint
from guanxi.customers.models.choices import Consent, ContactKind
from guanxi.platform.channels.models import MessageStatus, OutboundMessage, Suppression, SuppressionReason
from guanxi.platform.inbox.models import InboundMessage, MatchReason, MatchStatus
from tests.platform.inbox.conftest import ALIYUN_TOKEN, bounce_bytes, customer_with, signed_post


def test_an_sms_td_reply_withdraws_consent_and_suppresses_the_number(org: Any) -> None:
    customer = customer_with(org.rep_north, ContactKind.PHONE, "+8613812345678")
    ContactPoint.objects.filter(customer=customer).update(consent=Consent.GRANTED)
    push = [{"phone_number": "13812345678", "send_time": "2024-05-01 10:00:00", "content": "ＴＤ", "sequence_id": 77}]
    response = Client().post(
        f"/hooks/inbound/sms/aliyun/{ALIYUN_TOKEN}/", data=json.dumps(push), content_type="application/json"
    )
    assert response.status_code == 200
    message = InboundMessage.objects.get()
    assert (message.unsubscribe_requested, message.unsubscribed_count, message.record_id) == (True, 1, customer.pk)
    point = ContactPoint.objects.get(customer=customer)
    assert point.consent == Consent.WITHDRAWN
    suppression = Suppression.objects.get(channel="sms")
    assert (suppression.address, suppression.reason, suppression.source) == (
        "+8613812345678",
        SuppressionReason.UNSUBSCRIBED,
        "sms keyword",
    )


def test_a_bounce_report_marks_the_sent_email_bounced(org: Any) -> None:
    customer = customer_with(org.rep_north, ContactKind.EMAIL, "nobody@example.com")
    sent = OutboundMessage.objects.create(
        channel="email", purpose="marketing", status=MessageStatus.SENT, to_address="nobody@example.com",
        record_type="customers.customer", record_id=customer.pk, language="zh", subject="Spring offer",
        provider="smtp", provider_message_id="<guanxi.42.1@mail.guanxi.example>",
    )  # fmt: skip
    response = signed_post(Client(), "/hooks/inbound/email/", bounce_bytes(), "message/rfc822")
    assert response.status_code == 201
    message = InboundMessage.objects.get()
    assert (message.match_status, message.match_reason, message.record_type) == (
        MatchStatus.IGNORED,
        MatchReason.BOUNCE,
        "",
    )
    sent.refresh_from_db()
    assert sent.status == MessageStatus.BOUNCED
    assert "5.1.1" in sent.last_error
    assert Suppression.objects.get(channel="email").reason == SuppressionReason.BOUNCED


def test_a_bounce_for_a_message_we_never_sent_is_ignored_with_the_reason(org: Any) -> None:
    signed_post(Client(), "/hooks/inbound/email/", bounce_bytes(original_id="<unknown@x>"), "message/rfc822")
    message = InboundMessage.objects.get()
    assert (message.match_status, message.match_reason, message.bounce_of) == (
        MatchStatus.IGNORED,
        MatchReason.BOUNCE_NOT_RECORDED,
        "<unknown@x>",
    )
    assert not Suppression.objects.exists()
