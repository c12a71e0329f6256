"""Unsubscribing: signed links in emails, the keyword footer of marketing SMS, address normalisation.

An unsubscribe token is the channel and address signed with Django's signing (salted for this use). It does
not expire: a person may click a link in an old email. It proves the address owner received a message from
us, which is all an unsubscribe needs.

The footers are part of the message text in the recipient's language, not of the user interface, so they
are fixed per language here: 回复TD退订 is the keyword Chinese carriers recognise.
"""

from __future__ import annotations

from django.core import signing
from django.urls import reverse

from guanxi.platform.channels.conf import public_url
from guanxi.platform.channels.models import MessageChannel, is_chinese
from guanxi.platform.core.errors import ValidationFailed
from guanxi.platform.core.text import clean_text

SALT = "guanxi.channels.unsubscribe"

SMS_FOOTERS = {"zh": "回复TD退订", "en": "Reply STOP to unsubscribe"}
SMS_KEYWORDS = ("TD退订", "回T退订", "STOP")
EMAIL_FOOTERS = {
    "zh": "如不想再收到此类邮件，请点击退订：{url}",
    "en": "To stop receiving these emails, unsubscribe here: {url}",
}


def normalise_address(channel: str, address: str) -> str:
    """The form an address is compared in: lower-case email, E.164 phone, WeChat ID as given."""
    text = clean_text(address or "").replace(" ", "")
    if channel == MessageChannel.EMAIL:
        return text.lower()
    if channel == MessageChannel.SMS:
        from guanxi.platform.core.phones import normalise_phone

        try:
            return normalise_phone(text).e164
        except ValidationFailed:
            return text
    return text


def unsubscribe_token(channel: str, address: str) -> str:
    return signing.dumps({"c": channel, "a": normalise_address(channel, address)}, salt=SALT, compress=True)


def read_unsubscribe_token(token: str) -> tuple[str, str] | None:
    """(channel, address) of a valid token; None for a token that was not made here or was altered."""
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("c") not in MessageChannel.values or not data.get("a"):
        return None
    return str(data["c"]), str(data["a"])


def unsubscribe_url(channel: str, address: str) -> str:
    token = unsubscribe_token(channel, address)
    return public_url() + reverse("channels:unsubscribe", args=[token])


def one_click_unsubscribe_url(channel: str, address: str) -> str:
    """RFC 8058 one-click address for the List-Unsubscribe header (mail clients POST to it)."""
    token = unsubscribe_token(channel, address)
    return public_url() + reverse("channels:unsubscribe_one_click", args=[token])


def _lang(language: str) -> str:
    return "zh" if is_chinese(language) else "en"


def sms_footer(language: str) -> str:
    return SMS_FOOTERS[_lang(language)]


def has_sms_keyword(body: str) -> bool:
    upper = (body or "").upper()
    return any(keyword.upper() in upper for keyword in SMS_KEYWORDS)


def email_footer(language: str, url: str) -> str:
    return EMAIL_FOOTERS[_lang(language)].format(url=url)
