"""Chinese identifiers: resident ID numbers (cn.ric) and unified social credit codes (cn.uscc)."""

from __future__ import annotations

import hashlib
import hmac
import base64

from cryptography.fernet import Fernet
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from stdnum import exceptions as stdnum_errors
from stdnum.cn import ric, uscc

from guanxi.platform.core.errors import ValidationFailed
from guanxi.platform.core.text import clean_text


def normalise_ric(raw: str, *, field: str = "id_number") -> str:
    """Validate a resident ID number (18 digits with check digit, birth date and region)."""
    text = clean_text(raw).replace(" ", "").upper()
    try:
        return str(ric.validate(text))
    except stdnum_errors.ValidationError:
        raise ValidationFailed.for_field(field, _("This is not a valid Chinese ID number.")) from None


def normalise_uscc(raw: str, *, field: str = "uscc") -> str:
    """Validate a unified social credit code (统一社会信用代码), check digit included."""
    text = clean_text(raw).replace(" ", "").upper()
    try:
        return str(uscc.validate(text))
    except stdnum_errors.ValidationError:
        raise ValidationFailed.for_field(
            field, _("This is not a valid unified social credit code.")
        ) from None


def mask_id_number(value: str) -> str:
    """Display form that never reveals the whole number: 110101********1234."""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def _pii_key() -> bytes:
    secret = settings.GUANXI_PII_KEY or settings.SECRET_KEY
    return hashlib.sha256(("guanxi-pii:" + secret).encode()).digest()


def pii_hash(value: str) -> str:
    """Keyed hash of an identifier, for exact-match lookups without keeping the value in clear."""
    return hmac.new(_pii_key(), value.encode(), hashlib.sha256).hexdigest()


def pii_encrypt(value: str) -> str:
    return Fernet(base64.urlsafe_b64encode(_pii_key())).encrypt(value.encode()).decode()


def pii_decrypt(token: str) -> str:
    return Fernet(base64.urlsafe_b64encode(_pii_key())).decrypt(token.encode()).decode()
