"""Fixtures for the inbox: provider secrets, customers with contact points, and real email bytes."""

from __future__ import annotations

import json
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from guanxi.customers.models import ContactPoint, Customer, Lead
from guanxi.platform.identity.models import User
from guanxi.platform.inbox.providers import hmac_signature
from tests.factories import CustomerFactory, LeadFactory

EMAIL_SECRET = "email-secret-for-tests"
ALIYUN_TOKEN = "aliyun-token-for-tests"
TENCENT_TOKEN = "tencent-token-for-tests"
WECHAT_TOKEN = "wechat-token-for-tests"


@pytest.fixture(autouse=True)
def inbox_settings(settings: Any) -> Any:
    settings.GUANXI_INBOX_EMAIL_SECRET = EMAIL_SECRET
    settings.GUANXI_INBOX_ALIYUN_SMS_TOKEN = ALIYUN_TOKEN
    settings.GUANXI_INBOX_TENCENT_SMS_TOKEN = TENCENT_TOKEN
    settings.GUANXI_INBOX_WECHAT_TOKEN = WECHAT_TOKEN
    settings.GUANXI_INBOX_CREATE_LEADS = True
    settings.GUANXI_INBOX_LEAD_OWNER = ""
    return settings


def customer_with(owner: User | None, kind: str, value: str, **fields: Any) -> Customer:
    """A customer owned by `owner` with one contact point (value already normalised)."""
    customer = CustomerFactory(owner=owner, team=owner.team if owner else None, **fields)
    ContactPoint.objects.create(customer=customer, kind=kind, value=value, search_key=value.lower(), is_primary=True)
    return customer


def lead_with(owner: User | None, **fields: Any) -> Lead:
    return LeadFactory(owner=owner, team=owner.team if owner else None, **fields)


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def signed_post(client: Client, url: str, body: bytes, content_type: str, secret: str = EMAIL_SECRET) -> Any:
    return client.post(url, data=body, content_type=content_type, HTTP_X_GUANXI_SIGNATURE=hmac_signature(secret, body))


def email_json(**fields: Any) -> bytes:
    payload = {
        "from": "王芳 <Wang.Fang@Example.com>",
        "to": "sales@guanxi.example",
        "subject": "报价咨询",
        "text": "您好，请发一份报价。",
        "message_id": "<quote-1@example.com>",
        **fields,
    }
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def mime_bytes(
    *,
    from_header: str = "=?UTF-8?B?546L6Iqz?= <wang.fang@example.com>",
    subject_header: str = "=?UTF-8?B?5oql5Lu35ZKo6K+i?=",
    body: str = "您好，请发一份报价。",
    charset: str = "gbk",
    message_id: str = "<mime-1@example.com>",
    extra_headers: str = "",
) -> bytes:
    """A real RFC 822 message with encoded-word headers and a body in `charset` (base64)."""
    import base64

    encoded = base64.encodebytes(body.encode(charset)).decode("ascii")
    date = format_datetime(timezone.now().replace(microsecond=0))
    text = (
        f"From: {from_header}\r\n"
        "To: sales@guanxi.example\r\n"
        f"Subject: {subject_header}\r\n"
        f"Date: {date}\r\n"
        f"Message-ID: {message_id}\r\n"
        f"{extra_headers}"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: text/plain; charset="{charset}"\r\n'
        "Content-Transfer-Encoding: base64\r\n"
        "\r\n"
        f"{encoded}"
    )
    return text.encode("ascii")


def html_email_with_attachment(message_id: str = "<html-1@example.com>") -> bytes:
    message = EmailMessage()
    message["From"] = "Li Lei <li.lei@example.com>"
    message["To"] = "sales@guanxi.example"
    message["Subject"] = "Brochure"
    message["Message-ID"] = message_id
    message.set_content(
        "<html><head><style>p{color:red}</style><script>alert(1)</script></head>"
        "<body><p>Hello&nbsp;there,</p><p>see <a href='https://example.com/p'>our page</a><br>thanks</p></body></html>",
        subtype="html",
    )
    message.add_attachment(b"%PDF-1.4 fake", maintype="application", subtype="pdf", filename="报价单.pdf")
    return message.as_bytes()


def bounce_bytes(original_id: str = "<guanxi.42.1@mail.guanxi.example>", status: str = "5.1.1") -> bytes:
    """A delivery status notification (RFC 3464) as mail servers send it."""
    boundary = "BOUNDARY-42"
    action = "failed" if status.startswith(("4", "5")) else "delivered"
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.com>\r\n"
        "To: sales@guanxi.example\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <bounce-1@mx.example.com>\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\r\n'
        "\r\n"
        f"--{boundary}\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n"
        "\r\n"
        "Your message could not be delivered.\r\n"
        f"--{boundary}\r\n"
        "Content-Type: message/delivery-status\r\n"
        "\r\n"
        "Reporting-MTA: dns; mx.example.com\r\n"
        "\r\n"
        "Final-Recipient: rfc822; nobody@example.com\r\n"
        f"Action: {action}\r\n"
        f"Status: {status}\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 User unknown\r\n"
        f"--{boundary}\r\n"
        "Content-Type: text/rfc822-headers\r\n"
        "\r\n"
        "From: sales@guanxi.example\r\n"
        "To: nobody@example.com\r\n"
        "Subject: Spring offer\r\n"
        f"Message-ID: {original_id}\r\n"
        f"--{boundary}--\r\n"
    ).encode("ascii")
