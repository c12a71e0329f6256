"""Property-based tests (hypothesis) of the normalisers and validators every write path relies on."""

from __future__ import annotations

import datetime as dt
import re
import string
import unicodedata

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from stdnum.cn import ric, uscc

from guanxi.platform.core.cn_ids import (
    complete_ric,
    complete_uscc,
    mask_id_number,
    normalise_ric,
    normalise_uscc,
    pii_decrypt,
    pii_encrypt,
    pii_hash,
)
from guanxi.platform.core.emails import normalise_email
from guanxi.platform.core.errors import ValidationFailed
from guanxi.platform.core.masking import mask_email, mask_phone, mask_text
from guanxi.platform.core.names import COMPOUND_SURNAMES, PersonName
from guanxi.platform.core.phones import normalise_phone, reversed_digits
from guanxi.platform.core.pinyin import full_pinyin, pinyin_initials
from guanxi.platform.core.text import clean_text, digits_only, to_halfwidth

# Django settings objects are not thread-safe to swap per example; these tests only read settings.
PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

FULLWIDTH_ASCII = st.characters(min_codepoint=0xFF01, max_codepoint=0xFF5E)
ANY_TEXT = st.text(
    st.one_of(
        st.characters(),
        FULLWIDTH_ASCII,
        st.sampled_from(" \t\n\r\u3000\u00a0\u200b\u2028\x00\x1f\x7f·・•"),
        st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
        st.characters(min_codepoint=0x0300, max_codepoint=0x036F),  # combining marks
    ),
    max_size=40,
)
HAN = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)


def _gb2312_level_1() -> str:
    """The 3,755 most common Chinese characters (GB 2312 level 1): every one has a pinyin reading."""
    chars = []
    for high in range(0xB0, 0xD8):
        for low in range(0xA1, 0xFF):
            try:
                chars.append(bytes([high, low]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return "".join(chars)


COMMON_HAN = st.sampled_from(_gb2312_level_1())
MOBILE_PREFIXES = ["130", "131", "135", "136", "138", "139", "150", "151", "158", "159", "180", "186", "188", "189"]
TIMELESS_REGIONS = ["110105", "110108", "310104", "310101", "120101"]
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def to_fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


# --- text ------------------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(ANY_TEXT)
def test_to_halfwidth_is_idempotent_and_keeps_length(text):
    once = to_halfwidth(text)
    assert to_halfwidth(once) == once
    assert len(once) == len(text)
    assert not any(0xFF01 <= ord(c) <= 0xFF5E or c == "\u3000" for c in once)


@PROPERTY_SETTINGS
@given(st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E)))
def test_to_halfwidth_undoes_fullwidth(text):
    assert to_halfwidth(to_fullwidth(text)) == text


@PROPERTY_SETTINGS
@given(ANY_TEXT)
@example("ｅ\u0301")
@example("a\x00\u0301")
def test_clean_text_is_idempotent_and_tidy(text):
    cleaned = clean_text(text)
    assert clean_text(cleaned) == cleaned
    assert cleaned == cleaned.strip()
    assert "  " not in cleaned
    assert all(c.isprintable() for c in cleaned)
    assert unicodedata.is_normalized("NFC", cleaned)


@PROPERTY_SETTINGS
@given(ANY_TEXT)
@example("１３８²٣")
def test_digits_only_gives_ascii_digits(text):
    digits = digits_only(text)
    assert re.fullmatch(r"[0-9]*", digits)
    assert digits_only(digits) == digits


# --- phones ----------------------------------------------------------------------------------------


@st.composite
def cn_mobiles(draw: st.DrawFn) -> tuple[str, str]:
    """(how someone typed it, the 11 digits)"""
    digits = draw(st.sampled_from(MOBILE_PREFIXES)) + draw(st.text(string.digits, min_size=8, max_size=8))
    layout = draw(st.sampled_from(["{a}{b}{c}", "{a} {b} {c}", "{a}-{b}-{c}", "+86 {a} {b} {c}", "0086{a}{b}{c}",
                                   "(+86) {a}-{b}-{c}", "+86-{a}{b}{c}"]))  # fmt: skip
    typed = layout.format(a=digits[:3], b=digits[3:7], c=digits[7:])
    if draw(st.booleans()):
        typed = to_fullwidth(typed)
    return typed, digits


@PROPERTY_SETTINGS
@given(cn_mobiles())
def test_chinese_mobiles_in_any_format_normalise_to_e164(mobile):
    typed, digits = mobile
    phone = normalise_phone(typed)
    assert phone.e164 == f"+86{digits}"
    assert phone.stored == phone.e164
    assert phone.extension == ""
    assert reversed_digits(phone.stored) == f"86{digits}"[::-1]
    assert normalise_phone(phone.stored) == phone


@PROPERTY_SETTINGS
@given(ANY_TEXT | st.from_regex(r"\+?[0-9 ()\-]{0,20}(ext|转|分机|;ext=)?[0-9]{0,6}", fullmatch=True))
@example("+8613812345678;ext=12")
@example("1" * 300)
def test_normalise_phone_raises_only_validation_failed_and_is_idempotent(raw):
    try:
        phone = normalise_phone(raw, field="mobile")
    except ValidationFailed as exc:
        assert list(exc.fields) == ["mobile"]
        return
    assert phone.stored.startswith("+")
    assert normalise_phone(phone.stored).stored == phone.stored


# --- emails ----------------------------------------------------------------------------------------

EMAIL_LOCAL = st.from_regex(r"[A-Za-z0-9_%+\-]{1,10}(\.[A-Za-z0-9_%+\-]{1,10}){0,2}", fullmatch=True)
EMAIL_DOMAIN = st.from_regex(r"([A-Za-z0-9]([A-Za-z0-9\-]{0,10}[A-Za-z0-9])?\.){1,3}[A-Za-z]{2,6}", fullmatch=True)


@PROPERTY_SETTINGS
@given(EMAIL_LOCAL, EMAIL_DOMAIN, st.booleans())
def test_valid_emails_are_accepted_lower_cased(local, domain, fullwidth):
    typed = f"  {local}@{domain} "
    email = normalise_email(to_fullwidth(typed) if fullwidth else typed)
    assert email == f"{local}@{domain}".lower()
    assert normalise_email(email) == email


@PROPERTY_SETTINGS
@given(ANY_TEXT | st.emails())
@example("İ@example.com")
@example("a@" + "b" * 300 + ".com")
def test_normalise_email_raises_only_validation_failed_and_is_idempotent(raw):
    try:
        email = normalise_email(raw, field="work_email")
    except ValidationFailed as exc:
        assert list(exc.fields) == ["work_email"]
        return
    assert email == email.lower()
    assert " " not in email
    assert normalise_email(email) == email


# --- pinyin ----------------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(ANY_TEXT, st.sampled_from([None, True, False]))
@example("Zoë Ⅱ²", None)
@example("曾伟", None)
def test_pinyin_columns_are_plain_ascii_and_deterministic(text, person):
    full = full_pinyin(text, person=person)
    initials = pinyin_initials(text, person=person)
    assert re.fullmatch(r"[a-z0-9]*", full)
    assert re.fullmatch(r"[a-z0-9]*", initials)
    assert len(initials) <= len(full)
    assert full_pinyin(text, person=person) == full
    assert pinyin_initials(text, person=person) == initials


@PROPERTY_SETTINGS
@given(st.text(COMMON_HAN, min_size=1, max_size=6))
def test_every_common_chinese_character_gives_one_initial(text):
    assert len(pinyin_initials(text)) == len(text)
    assert full_pinyin(text).startswith(pinyin_initials(text)[0])


@pytest.mark.parametrize(
    ("name", "full", "initials"),
    [
        ("张伟", "zhangwei", "zw"),
        ("曾伟", "zengwei", "zw"),
        ("单田芳", "shantianfang", "stf"),
        ("解晓东", "xiexiaodong", "xxd"),
        ("欧阳娜娜", "ouyangnana", "oynn"),
        ("吕布", "lvbu", "lb"),
        ("Li Na", "lina", "ln"),
        ("重庆火锅有限公司", "chongqinghuoguoyouxiangongsi", "cqhgyxgs"),
    ],
)
def test_pinyin_examples(name, full, initials):
    assert full_pinyin(name) == full
    assert pinyin_initials(name) == initials


def test_polyphonic_surname_only_for_personal_names():
    assert full_pinyin("曾经") == "zengjing"  # two characters: read as a name
    assert full_pinyin("曾经", person=False) == "cengjing"
    assert full_pinyin("解放军报社") == "jiefangjunbaoshe"  # too long to be a name


# --- Chinese identifiers ---------------------------------------------------------------------------


@st.composite
def resident_ids(draw: st.DrawFn) -> str:
    region = draw(st.sampled_from(TIMELESS_REGIONS))
    born = draw(st.dates(min_value=dt.date(1930, 1, 1), max_value=dt.date.today()))
    sequence = draw(st.integers(0, 999))
    return complete_ric(f"{region}{born:%Y%m%d}{sequence:03d}")


@st.composite
def usccs(draw: st.DrawFn) -> str:
    head = draw(st.text(string.digits, min_size=8, max_size=8))
    body = draw(st.text(USCC_ALPHABET, min_size=9, max_size=9))
    return complete_uscc(head + body)


@PROPERTY_SETTINGS
@given(resident_ids(), st.booleans(), st.booleans())
def test_valid_resident_ids_are_accepted(number, spaced, fullwidth):
    assert ric.is_valid(number)
    typed = f"{number[:6]} {number[6:14]} {number[14:]}" if spaced else number
    typed = to_fullwidth(typed.lower()) if fullwidth else typed.lower()
    assert normalise_ric(typed) == number


@PROPERTY_SETTINGS
@given(resident_ids(), st.integers(0, 17), st.sampled_from("0123456789X"))
def test_one_changed_character_makes_a_resident_id_invalid(number, position, replacement):
    assume(number[position] != replacement)
    changed = number[:position] + replacement + number[position + 1 :]
    with pytest.raises(ValidationFailed) as exc:
        normalise_ric(changed, field="id_number")
    assert list(exc.value.fields) == ["id_number"]


def test_resident_id_born_in_the_future_is_invalid():
    tomorrow = dt.date.today() + dt.timedelta(days=2)
    with pytest.raises(ValidationFailed):
        normalise_ric(complete_ric(f"110105{tomorrow:%Y%m%d}123"))


@PROPERTY_SETTINGS
@given(usccs(), st.booleans())
def test_valid_usccs_are_accepted(code, lower):
    assert uscc.is_valid(code)
    assert normalise_uscc(f" {code.lower() if lower else code} ") == code


@PROPERTY_SETTINGS
@given(usccs(), st.integers(0, 17), st.sampled_from(USCC_ALPHABET))
def test_one_changed_character_makes_a_uscc_invalid(code, position, replacement):
    assume(code[position] != replacement)
    changed = code[:position] + replacement + code[position + 1 :]
    with pytest.raises(ValidationFailed):
        normalise_uscc(changed)


@PROPERTY_SETTINGS
@given(ANY_TEXT)
def test_id_validators_raise_only_validation_failed(raw):
    for validate in (normalise_ric, normalise_uscc):
        try:
            value = validate(raw)
        except ValidationFailed:
            continue
        assert re.fullmatch(r"[0-9A-Z]{18}", value)


@PROPERTY_SETTINGS
@given(ANY_TEXT)
def test_pii_encryption_round_trips_and_hash_is_stable(value):
    token = pii_encrypt(value)
    assert pii_decrypt(token) == value
    assert pii_encrypt(value) != token  # a fresh IV every time: equal values do not look equal
    assert pii_hash(value) == pii_hash(value)
    assert re.fullmatch(r"[0-9a-f]{64}", pii_hash(value))


# --- masking ---------------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(resident_ids())
def test_masked_id_number_hides_the_birth_date(number):
    masked = mask_id_number(number)
    assert len(masked) == len(number)
    assert masked == number[:6] + "*" * 8 + number[-4:]


@PROPERTY_SETTINGS
@given(st.text(st.characters(blacklist_characters="*"), max_size=30))
def test_masked_id_number_keeps_length_and_hides_the_middle(value):
    masked = mask_id_number(value)
    assert len(masked) == len(value)
    if value:
        assert masked[len(value) // 2] == "*"
    visible = sum(1 for c in masked if c != "*")
    assert visible <= (0 if len(value) <= 8 else min(10, len(value) - 5))


@PROPERTY_SETTINGS
@given(cn_mobiles())
def test_masked_mobile_keeps_length_and_hides_the_middle_four(mobile):
    _typed, digits = mobile
    stored = f"+86{digits}"
    masked = mask_phone(stored)
    assert len(masked) == len(stored)
    assert masked == f"+86{digits[:3]}****{digits[-4:]}"


@PROPERTY_SETTINGS
@given(st.text(string.digits + "+", min_size=1, max_size=20), st.text(string.digits, max_size=5))
@example("12", "")
@example("+", "")
def test_masked_phone_never_reveals_its_middle(number, extension):
    value = f"{number};ext={extension}" if extension else number
    masked = mask_phone(value)
    head = masked.split(";", 1)[0]
    assert len(head) == len(number)
    assert head[len(number) // 2] == "*"
    assert head.count("*") >= len(number) // 3
    assert masked.removeprefix(head) == value.removeprefix(number)


@PROPERTY_SETTINGS
@given(EMAIL_LOCAL, EMAIL_DOMAIN)
def test_masked_email_shows_only_the_first_letter_and_the_domain(local, domain):
    assert mask_email(f"{local}@{domain}") == f"{local[0]}***@{domain}"


@PROPERTY_SETTINGS
@given(ANY_TEXT)
def test_masked_text_shows_at_most_the_first_character(value):
    masked = mask_text(value)
    assert masked[:1] == value[:1]
    assert set(masked[1:]) <= {"*"}


# --- names -----------------------------------------------------------------------------------------


@st.composite
def chinese_names(draw: st.DrawFn) -> str:
    surname = draw(st.sampled_from(sorted(COMPOUND_SURNAMES)) | HAN)
    given = draw(st.text(HAN, min_size=0, max_size=3))
    return surname + given


@PROPERTY_SETTINGS
@given(chinese_names(), st.sampled_from(["", " ", "\u3000"]))
def test_chinese_names_split_into_family_and_given(name, separator):
    typed = name[0] + separator + name[1:] if len(name) > 1 else name
    parsed = PersonName.parse(typed)
    assert parsed.family + parsed.given == parsed.full == name
    assert parsed.family
    if len(name) >= 3 and name[:2] in COMPOUND_SURNAMES:
        assert parsed.family == name[:2]
    elif len(name) >= 2:
        assert parsed.family == name[0]


@PROPERTY_SETTINGS
@given(st.text(HAN, min_size=1, max_size=4), st.text(HAN, min_size=1, max_size=4), st.sampled_from("·・•‧"))
def test_transliterated_foreign_names_keep_the_whole_as_given(first, last, dot):
    parsed = PersonName.parse(f"{first}{dot}{last}")
    assert parsed.full == f"{first}·{last}"
    assert parsed.family + parsed.given == parsed.full


@PROPERTY_SETTINGS
@given(ANY_TEXT)
def test_any_name_parses_into_parts_of_itself(raw):
    parsed = PersonName.parse(raw)
    assert len(parsed.full) <= len(clean_text(raw))
    assert parsed.family in parsed.full
    assert parsed.given in parsed.full
    assert bool(parsed.full) == bool(clean_text(raw))


@pytest.mark.parametrize(
    ("raw", "family", "given"),
    [("张伟", "张", "伟"), ("欧阳娜娜", "欧阳", "娜娜"), ("张 伟", "张", "伟"), ("Wei Zhang", "Zhang", "Wei"),
     ("Zhang, Wei", "Zhang", "Wei"), ("Madonna", "", "Madonna"), ("王", "王", ""), ("𠮷", "𠮷", "")],
)  # fmt: skip
def test_name_examples(raw, family, given):
    parsed = PersonName.parse(raw)
    assert (parsed.family, parsed.given) == (family, given)
