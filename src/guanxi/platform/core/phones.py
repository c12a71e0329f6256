"""Phone numbers: parse any common format into E.164 (default region CN), keep extensions."""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from guanxi.platform.core.errors import ValidationFailed
from guanxi.platform.core.text import clean_text, digits_only


@dataclass(frozen=True)
class NormalisedPhone:
    e164: str
    extension: str
    national: str

    @property
    def stored(self) -> str:
        """The value kept in the database: E.164, with ';ext=' when there is an extension."""
        return f"{self.e164};ext={self.extension}" if self.extension else self.e164

    @property
    def digits(self) -> str:
        return self.e164.lstrip("+")


def normalise_phone(raw: str, *, region: str | None = None, field: str = "phone") -> NormalisedPhone:
    """Parse `raw` into E.164 or raise ValidationFailed naming `field`."""
    text = clean_text(raw)
    if not text:
        raise ValidationFailed.for_field(field, _("Enter a phone number."))
    text = text.replace("转", " ext ").replace("分机", " ext ")
    try:
        parsed = phonenumbers.parse(text, region or settings.GUANXI_DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException:
        raise ValidationFailed.for_field(field, _("“%(value)s” is not a phone number.") % {"value": text}) from None
    if not phonenumbers.is_valid_number(parsed):
        raise ValidationFailed.for_field(field, _("“%(value)s” is not a valid phone number.") % {"value": text})
    return NormalisedPhone(
        e164=phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164),
        extension=parsed.extension or "",
        national=phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL),
    )


def phone_search_digits(raw: str) -> str:
    """Digits to match a stored phone by suffix: what the user typed, without country code guesses."""
    return digits_only(raw)


def reversed_digits(stored_phone: str) -> str:
    """Reversed digits of a stored E.164 number (no extension): a suffix search becomes a prefix search."""
    return digits_only(stored_phone.split(";", 1)[0])[::-1]


def readable_phone(stored: str, *, region: str | None = None) -> str:
    """How people read a stored number: national format at home ("138 1234 5678", "010 6552 9988"),
    international abroad ("+1 650-253-0000"); an extension follows as " ext. 123"."""
    number, _sep, extension = stored.partition(";ext=")
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return stored
    home = region or settings.GUANXI_DEFAULT_PHONE_REGION
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if phonenumbers.region_code_for_number(parsed) == home
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    text = phonenumbers.format_number(parsed, style)
    if home == "CN" and style == phonenumbers.PhoneNumberFormat.NATIONAL:
        text = text.replace("(", "").replace(")", "")
    return f"{text} ext. {extension}" if extension else text
