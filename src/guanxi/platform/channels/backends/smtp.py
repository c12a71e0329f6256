"""Email over SMTP with Django's SMTP machinery and this channel's own server settings.

OPTIONS: host, port, username, password, use_tls (STARTTLS), use_ssl, timeout, from_email. The message carries
a Message-ID made from its id (so bounces can be matched: `message_mark_bounced`) and, for marketing, the
List-Unsubscribe headers the service put in `headers`.
"""

from __future__ import annotations

import smtplib
from email.utils import make_msgid, parseaddr
from typing import Any

from django.core.mail import EmailMessage
from django.core.mail.backends.smtp import EmailBackend

from guanxi.platform.channels.backends.base import (
    ChannelBackend,
    OutgoingMessage,
    PermanentError,
    RetryableError,
    SendResult,
)


def _smtp_code_error(code: int, text: Any) -> RetryableError | PermanentError:
    detail = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    error_class = PermanentError if 500 <= int(code) < 600 else RetryableError
    return error_class(f"smtp_{code}", detail)


class SmtpBackend(ChannelBackend):
    provider = "smtp"

    def connection(self) -> EmailBackend:
        return EmailBackend(
            host=self.required_option("host"),
            port=int(self.option("port", 587)),
            username=self.option("username", ""),
            password=self.option("password", ""),
            use_tls=bool(self.option("use_tls", False)),
            use_ssl=bool(self.option("use_ssl", False)),
            timeout=float(self.option("timeout", 20)),
            fail_silently=False,
        )

    def from_email(self) -> str:
        return str(self.option("from_email", "webmaster@localhost"))

    def message_id(self, message: OutgoingMessage) -> str:
        domain = parseaddr(self.from_email())[1].rpartition("@")[2] or "localhost"
        return make_msgid(idstring=f"guanxi.{message.message_id}", domain=domain)

    def send(self, message: OutgoingMessage) -> SendResult:
        message_id = self.message_id(message)
        email = EmailMessage(
            subject=message.subject,
            body=message.body,
            from_email=self.from_email(),
            to=[message.to],
            headers={"Message-ID": message_id, **message.headers},
        )
        connection = self.connection()
        try:
            sent = connection.send_messages([email])
        except smtplib.SMTPRecipientsRefused as error:
            code, text = next(iter(error.recipients.values()), (550, b"recipient refused"))
            raise _smtp_code_error(code, text) from error
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as error:
            raise _smtp_code_error(error.smtp_code, error.smtp_error) from error
        except smtplib.SMTPAuthenticationError as error:
            raise RetryableError("smtp_auth", str(error.smtp_error)) from error
        except (TimeoutError, smtplib.SMTPException, OSError) as error:
            raise RetryableError("smtp_unavailable", str(error) or type(error).__name__) from error
        if not sent:
            raise RetryableError("smtp_not_sent", "the SMTP server accepted no message")
        return SendResult(provider=self.provider, provider_message_id=message_id)
