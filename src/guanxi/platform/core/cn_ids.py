"""Chinese identifiers: resident ID numbers (cn.ric) and unified social credit codes (cn.uscc)."""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stdnum import exceptions as stdnum_errors
from stdnum.cn import ric, uscc

from guanxi.platform.core.errors import ValidationFailed
from guanxi.platform.core.text import clean_text


def normalise_ric(raw: str, *, field: str = "id_number") -> str:
    """Validate a resident ID number (18 digits with check digit, birth date and region)."""
    text = clean_text(raw).replace(" ", "").upper()
    try:
        number = str(ric.validate(text))
        born_in_the_future = ric.get_birth_date(number) > timezone.localdate()
    except stdnum_errors.ValidationError:
        raise ValidationFailed.for_field(field, _("This is not a valid Chinese ID number.")) from None
    if born_in_the_future:
        raise ValidationFailed.for_field(field, _("This is not a valid Chinese ID number."))
    return number


def complete_ric(first_17: str) -> str:
    """The full 18-character ID number for its first 17 digits (region, birth date, sequence): adds the check digit."""
    return first_17 + str(ric.calc_check_digit(first_17 + "0"))


def complete_uscc(first_17: str) -> str:
    """The full 18-character USCC for its first 17 characters: adds the check character."""
    return first_17 + str(uscc.calc_check_digit(first_17))


def normalise_uscc(raw: str, *, field: str = "uscc") -> str:
    """Validate a unified social credit code (统一社会信用代码), check digit included."""
    text = clean_text(raw).replace(" ", "").upper()
    try:
        return str(uscc.validate(text))
    except stdnum_errors.ValidationError:
        raise ValidationFailed.for_field(field, _("This is not a valid unified social credit code.")) from None


def mask_id_number(value: str) -> str:
    """Display form of the same length that never reveals the middle: 110101********1234.

    Full-length numbers keep the region (6) and the last 4; shorter values keep 2 at each end, and
    values of 8 characters or fewer are all stars, so at least half of any value is hidden.
    """
    if len(value) <= 8:
        return "*" * len(value)
    keep_start, keep_end = (6, 4) if len(value) >= 15 else (2, 2)
    return value[:keep_start] + "*" * (len(value) - keep_start - keep_end) + value[-keep_end:]


def _pii_key() -> bytes:
    secret = settings.GUANXI_PII_KEY or settings.SECRET_KEY
    return hashlib.sha256(("guanxi-pii:" + secret).encode()).digest()


def _utf8(value: str) -> bytes:
    # "surrogatepass": any Python string (even one with a lone surrogate from a JSON escape) round-trips.
    return value.encode("utf-8", "surrogatepass")


def pii_hash(value: str) -> str:
    """Keyed hash of an identifier, for exact-match lookups without keeping the value in clear."""
    return hmac.new(_pii_key(), _utf8(value), hashlib.sha256).hexdigest()


def pii_encrypt(value: str) -> str:
    """Authenticated encryption (Fernet) of a personal identifier; a fresh IV each time."""
    return Fernet(base64.urlsafe_b64encode(_pii_key())).encrypt(_utf8(value)).decode()


def pii_decrypt(token: str) -> str:
    """The value `pii_encrypt` encrypted; raises cryptography's InvalidToken for a token made with another key."""
    return Fernet(base64.urlsafe_b64encode(_pii_key())).decrypt(token.encode()).decode("utf-8", "surrogatepass")
