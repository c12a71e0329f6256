"""Email through a real SMTP server on 127.0.0.1 (aiosmtpd): headers, body, the unsubscribe link that works,
and SMTP refusals mapped to permanent or retryable failures."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.test import Client

from guanxi.customers.models import ContactPoint
from guanxi.customers.models.choices import Consent
from guanxi.platform.channels.backends.base import OutgoingMessage, PermanentError, RetryableError
from guanxi.platform.channels.backends.smtp import SmtpBackend
from guanxi.platform.channels.models import MessageStatus, Suppression
from guanxi.platform.channels.services import message_mark_bounced, message_send
from tests.platform.channels.conftest import CUSTOMER, make_customer


class Recorder:
    """An aiosmtpd handler that keeps every message and refuses the recipients it is told to."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []
        self.refuse: dict[str, str] = {}

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[tuple[Recorder, int]]:
    recorder = Recorder()
    for _attempt in range(5):  # another process may take the free port before the server binds it
        port = free_port()
        controller = Controller(recorder, hostname="127.0.0.1", port=port)
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
            "OPTIONS": {
                "host": "127.0.0.1",
                "port": port,
                "use_tls": False,
                "timeout": 30,
                "from_email": "关系 CRM <crm@shop.example.cn>",
            },
        },
    }
    try:
        yield recorder, port
    finally:
        controller.stop()


def parsed(envelope: Any) -> EmailMessage:
    message = email.message_from_bytes(envelope.content, policy=default_policy)
    assert isinstance(message, EmailMessage)
    return message


def test_a_marketing_email_reaches_the_smtp_server_with_its_unsubscribe_link(
    org: Any, smtp_server: tuple[Recorder, int], django_capture_on_commit_callbacks: Any
) -> None:
    recorder, _port = smtp_server
    customer = make_customer(org.rep_north)
    with django_capture_on_commit_callbacks(execute=True):
        message = message_send(
            actor=org.actor("marketer"),
            channel="email",
            record_type=CUSTOMER,
            record_id=customer.pk,
            subject="{{ name }}，春季新品",
            body="欢迎光临！",
        )
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT and message.provider == "smtp", message.last_error
    [envelope] = recorder.envelopes
    assert envelope.mail_from == "crm@shop.example.cn" and envelope.rcpt_tos == ["zhang.wei@example.com"]
    received = parsed(envelope)
    assert received["Subject"] == "张伟，春季新品"
    assert received["To"] == "zhang.wei@example.com"
    assert received["Message-ID"].strip() == message.provider_message_id
    assert (
        received["Message-ID"].strip().startswith("<")
        and f".guanxi.{message.pk}@shop.example.cn>" in received["Message-ID"]
    )
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    one_click = str(received["List-Unsubscribe"]).strip().strip("<>")
    body = received.get_content().replace("\r\n", "\n")
    assert body.startswith("欢迎光临！\n\n--\n如不想再收到此类邮件，请点击退订：http://testserver/unsubscribe/")
    link = body.rsplit("：", 1)[1].strip()

    # The link opens a confirmation page; nothing changes until the button is pressed (CSRF-protected).
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(link.removeprefix("http://testserver"))
    assert page.status_code == 200 and "zhang.wei@example.com" in page.content.decode()
    assert ContactPoint.objects.get(customer=customer).consent == Consent.GRANTED
    assert browser.post(link.removeprefix("http://testserver")).status_code == 403  # no CSRF token
    token = page.cookies["csrftoken"].value
    done = browser.post(link.removeprefix("http://testserver"), {"csrfmiddlewaretoken": token})
    assert done.status_code == 200 and "unsubscribed" in done.content.decode()
    assert ContactPoint.objects.get(customer=customer).consent == Consent.WITHDRAWN
    assert Suppression.objects.get().source == "unsubscribe link"
    # The one-click address of the header works without cookies or CSRF (RFC 8058).
    assert (
        Client().post(one_click.removeprefix("http://testserver"), {"List-Unsubscribe": "One-Click"}).status_code == 204
    )


def test_a_bounce_found_by_message_id_marks_the_email_bounced(
    org: Any, smtp_server: tuple[Recorder, int], django_capture_on_commit_callbacks: Any
) -> None:
    recorder, _port = smtp_server
    customer = make_customer(org.rep_north)
    with django_capture_on_commit_callbacks(execute=True):
        message = message_send(
            actor=org.actor("admin"),
            channel="email",
            record_type=CUSTOMER,
            record_id=customer.pk,
            subject="发票",
            body="附件是您的发票。",
            purpose="transactional",
        )
    message_id = parsed(recorder.envelopes[0])["Message-ID"].strip()
    bounced = message_mark_bounced(provider_message_id=message_id.strip("<>"), reason="550 5.1.1 user unknown")
    assert bounced is not None and bounced.pk == message.pk and bounced.status == MessageStatus.BOUNCED
    assert received_headers_have_no_unsubscribe(recorder.envelopes[0])


def received_headers_have_no_unsubscribe(envelope: Any) -> bool:
    return parsed(envelope)["List-Unsubscribe"] is None


def outgoing(to: str) -> OutgoingMessage:
    return OutgoingMessage(message_id=7, channel="email", to=to, subject="Hi", body="Hello", language="en")


def test_smtp_refusals_are_permanent_for_5xx_and_retryable_for_4xx(smtp_server: tuple[Recorder, int]) -> None:
    recorder, port = smtp_server
    recorder.refuse = {"gone@example.com": "550 5.1.1 No such user", "busy@example.com": "451 4.3.0 Try later"}
    backend = SmtpBackend({"host": "127.0.0.1", "port": port, "timeout": 30, "from_email": "crm@example.com"})
    with pytest.raises(PermanentError) as permanent:
        backend.send(outgoing("gone@example.com"))
    assert permanent.value.code == "smtp_550" and "No such user" in permanent.value.message
    with pytest.raises(RetryableError) as retryable:
        backend.send(outgoing("busy@example.com"))
    assert retryable.value.code == "smtp_451"
    result = backend.send(outgoing("fine@example.com"))
    assert result.provider == "smtp" and result.provider_message_id.startswith("<")
    assert [e.rcpt_tos for e in recorder.envelopes] == [["fine@example.com"]]


def test_an_unreachable_smtp_server_is_a_retryable_failure() -> None:
    backend = SmtpBackend({"host": "127.0.0.1", "port": free_port(), "timeout": 2})
    with pytest.raises(RetryableError) as error:
        backend.send(outgoing("a@example.com"))
    assert error.value.code == "smtp_unavailable"
    with pytest.raises(RetryableError) as missing:
        SmtpBackend({}).send(outgoing("a@example.com"))
    assert missing.value.code == "not_configured"
