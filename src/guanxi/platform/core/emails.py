"""Email addresses: trimmed, half-width, lower-cased and validated."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from guanxi.platform.core.errors import ValidationFailed
from guanxi.platform.core.text import clean_text


def normalise_email(raw: str, *, field: str = "email") -> str:
    """Return the canonical form of an email address or raise ValidationFailed naming `field`."""
    text = clean_text(raw).replace(" ", "").lower()
    if not text:
        raise ValidationFailed.for_field(field, _("Enter an email address."))
    try:
        validate_email(text)
    except DjangoValidationError:
        raise ValidationFailed.for_field(
            field, _("“%(value)s” is not a valid email address.") % {"value": text}
        ) from None
    return text
