"""The emails notifications send: one notification, and the daily digest.

Each is rendered in the recipient's language and time zone (their preferences, else the company's), as a
plain-text body with a simple HTML alternative, and sent through Django's email API (`EMAIL_BACKEND`). Links
are absolute, on `settings.GUANXI_BASE_URL`. These functions run in background jobs (`tasks.py`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import ngettext

from guanxi.platform.identity.models import User
from guanxi.platform.identity.preferences import user_time_zone
from guanxi.platform.notifications.links import absolute_url, local_path
from guanxi.platform.notifications.models import Digest, DigestItem

DIGEST_EMAIL_MAX_ITEMS = 100


@contextmanager
def recipient_locale(user: User) -> Iterator[None]:
    """The recipient's language and time zone for everything rendered inside."""
    with translation.override(user.language or settings.LANGUAGE_CODE), timezone.override(user_time_zone(user)):
        yield


def _one_line(text: str, limit: int = 200) -> str:
    return " ".join(str(text).split())[:limit]


def _item_link(url: str, notification_id: int | None) -> str:
    """The in-app "open" link when there is an in-app row (it marks it read), else the notification's own
    local link; nothing for links to other sites."""
    if notification_id is not None:
        return absolute_url(reverse("notifications:open", args=[notification_id]))
    path = local_path(url)
    return absolute_url(path) if path else ""


def _send(user: User, subject: str, template: str, context: dict[str, Any]) -> None:
    context = {
        **context,
        "recipient": user,
        "preferences_url": absolute_url(reverse("notifications:preferences")),
        "notifications_url": absolute_url(reverse("notifications:list")),
    }
    text = render_to_string(f"notifications/email/{template}.txt", context)
    html = render_to_string(f"notifications/email/{template}.html", context)
    message = EmailMultiAlternatives(subject=_one_line(subject), body=text, to=[user.email])
    message.attach_alternative(html, "text/html")
    message.send()


def active_recipient(user_id: int) -> User | None:
    """The user when they are active and have an email address; emails go to nobody else."""
    return User.objects.filter(pk=user_id, is_active=True).exclude(email="").first()


def notification_email_deliver(
    *, recipient_id: int, kind: str, title: str, body: str = "", url: str = "", notification_id: int | None = None
) -> bool:
    """Email one notification to its recipient; False when they are inactive or have no address."""
    user = active_recipient(recipient_id)
    if user is None:
        return False
    with recipient_locale(user):
        _send(
            user,
            title,
            "notification",
            {
                "title": title,
                "body": body,
                "link": _item_link(url, notification_id),
                "kind": kind,
                "when": timezone.localtime(),
            },
        )
    return True


def digest_email_deliver(*, digest: Digest) -> bool:
    """Email one daily digest; False when the recipient can no longer receive it."""
    user = active_recipient(digest.recipient_id)
    if user is None:
        return False
    items: list[DigestItem] = list(digest.items.order_by("created_at", "id")[:DIGEST_EMAIL_MAX_ITEMS])
    with recipient_locale(user):
        entries = [
            {
                "title": item.title,
                "body": item.body,
                "created_at": timezone.localtime(item.created_at),
                "link": _item_link(item.url, item.notification_id),
            }
            for item in items
        ]
        count = digest.item_count
        subject = ngettext(
            "Your daily digest: %(count)s notification", "Your daily digest: %(count)s notifications", count
        ) % {"count": count}
        _send(
            user,
            subject,
            "digest",
            {"entries": entries, "count": count, "more": max(count - len(entries), 0), "day": digest.local_date},
        )
    return True
