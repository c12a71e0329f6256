"""Message templates: the restricted engine, errors refused at save time (field and line named), rendering in
the recipient's language with merge fields, and previews against a real customer."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation

from guanxi.platform.channels.backends import memory
from guanxi.platform.channels.models import MessageStatus, MessageTemplate
from guanxi.platform.channels.rendering import check_text, render_text
from guanxi.platform.channels.selectors import template_preview
from guanxi.platform.channels.services import (
    message_send,
    message_template_create,
    message_template_delete,
    message_template_update,
)
from guanxi.platform.core.errors import Conflict, NotFound, PermissionDenied, StaleVersion, ValidationFailed
from guanxi.platform.customfields.models import CustomFieldDefinition
from tests.platform.channels.conftest import CUSTOMER, make_customer

NAMES = ["name", "given_name", "custom_fields.tier", "unsubscribe_url"]


def template_data(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "春季促销",
        "channel": "email",
        "purpose": "marketing",
        "record_type": CUSTOMER,
        "subject_zh": "{{ name }}，春季新品",
        "body_zh": "{{ given_name|default:name }}，您好！\n您的会员等级：{{ custom_fields.tier }}。",
        "subject_en": "Spring news for {{ name }}",
        "body_en": "Dear {{ name }},\nyour tier: {{ custom_fields.tier|default:'none' }}.",
    } | overrides


@pytest.fixture
def tier(db: None) -> CustomFieldDefinition:
    return CustomFieldDefinition.objects.create(
        target=CUSTOMER,
        key="tier",
        label_zh="会员等级",
        label_en="Tier",
        field_type="choice",
        choices=[{"value": "gold", "label_zh": "金卡", "label_en": "Gold"}],
    )


# The engine -------------------------------------------------------------------------------------------


def test_the_engine_renders_plain_text_without_escaping() -> None:
    text = "{% if vip %}尊敬的{% endif %}{{ name }} <b>&</b> {{ missing }}|{{ name|upper }}"
    assert render_text(text, {"name": "A&B <co>", "vip": True}) == "尊敬的A&B <co> <b>&</b> |A&B <CO>"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{% load static %}", "Line 1: the tag “load” cannot be used in message templates."),
        ("a\n{% include 'x.html' %}", "Line 2: the tag “include” cannot be used in message templates."),
        ("{% for x in name %}{% endfor %}", "Line 1: the tag “for” cannot be used in message templates."),
        ("{% debug %}", "Line 1: the tag “debug” cannot be used in message templates."),
        ("{{ name|center:'999999' }}", "Line 1: the filter “center” cannot be used in message templates."),
        ("{{ name|safe }}", "Line 1: the filter “safe” cannot be used in message templates."),
        ("x\ny\n{% if name %}open", "Line 3: “{% if %}” is not closed; add “{% endif %}”."),
        ("{% endif %}", "Line 1: “{% endif %}” is not expected here."),
        ("hi\n\n{{ nmae }}", "Line 3: “nmae” is not a merge field of this record type."),
        ("{{ name.upper }}", "Line 1: “name.upper” is not a merge field of this record type."),
        ("{% if secret %}x{% endif %}", "Line 1: “secret” is not a merge field of this record type."),
        ("{{ name|default:password }}", "Line 1: “password” is not a merge field of this record type."),
    ],
)
def test_check_text_names_the_line_of_each_problem(text: str, problem: str) -> None:
    with translation.override("en"):
        assert [str(p) for p in check_text(text, NAMES)] == [problem]


def test_check_text_accepts_merge_fields_locals_and_literals() -> None:
    text = (
        "{% with n=given_name|default:name %}{{ n }}{% endwith %} {{ custom_fields.tier }} {{ 'x' }} {{ 3 }}\n"
        "{% if name and not given_name %}{{ name }}{% elif custom_fields.tier == 'gold' %}VIP{% else %}-{% endif %}"
        "{% now 'Y' as year %}{{ year }}{% firstof given_name name %}{% comment %}{{ nope }}{% endcomment %}"
        "{% verbatim %}{{ literal }}{% endverbatim %}"
    )
    assert check_text(text, NAMES) == []


# Saving -------------------------------------------------------------------------------------------------


def test_a_template_is_saved_with_its_history(org: Any, tier: Any) -> None:
    template = message_template_create(actor=org.actor("marketer"), data=template_data())
    assert (template.name, template.version, template.created_by) == ("春季促销", 1, org.marketer)
    changed = message_template_update(
        actor=org.actor("marketer"), template_id=template.pk, data={"name": "春季促销2"}, version=1
    )
    assert changed.version == 2 and changed.body_zh == template.body_zh
    assert changed.history.count() == 2
    with pytest.raises(StaleVersion):
        message_template_update(actor=org.actor("marketer"), template_id=template.pk, data={"name": "x"}, version=1)


def test_errors_are_refused_at_save_time_naming_field_and_line(org: Any, tier: Any) -> None:
    bad = template_data(
        subject_zh="{{ name|}}",
        body_en="Dear {{ name }},\n{{ owner }} says hi\n{% load i18n %}",
    )
    with translation.override("en"), pytest.raises(ValidationFailed) as failed:
        message_template_create(actor=org.actor("marketer"), data=bad)
    assert failed.value.fields == {
        "subject_zh": ["Line 1: this cannot be read as a template (Could not parse the remainder: '|' from 'name|')."],
        "body_en": ["Line 3: the tag “load” cannot be used in message templates."],
    }
    assert MessageTemplate.objects.count() == 0


def test_unknown_merge_field_is_named(org: Any, tier: Any) -> None:
    with translation.override("en"), pytest.raises(ValidationFailed) as failed:
        message_template_create(
            actor=org.actor("marketer"), data=template_data(body_en="Dear {{ name }},\n\nyour {{ custom_fields.size }}")
        )
    assert failed.value.fields == {
        "body_en": ["Line 3: “custom_fields.size” is not a merge field of this record type."]
    }


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"name": ""}, {"name": ["Enter a name."]}),
        ({"channel": "fax"}, {"channel": ["Choose a channel from the list."]}),
        ({"record_type": "rockets"}, {"record_type": ["Choose a record type from the list."]}),
        ({"purpose": "spam"}, {"purpose": ["Choose a purpose from the list."]}),
        ({"body_zh": "", "body_en": ""}, {"body_zh": ["Write the text in Chinese, in English or in both."]}),
        ({"subject_en": ""}, {"subject_en": ["An email needs a subject."]}),
        (
            {"provider_template_id": "SMS_1"},
            {"provider_template_id": ["Emails are sent from their own text; leave the provider template empty."]},
        ),
        (
            {"channel": "sms", "subject_zh": "", "subject_en": "", "body_zh": "x" * 501, "body_en": "hi"},
            {"body_zh": ["Keep it to 500 characters or fewer."]},
        ),
        (
            {"channel": "sms", "provider_params": {"name": "{{ name }}"}},
            {"provider_template_id": ["Enter the provider's template ID the parameters belong to."]},
        ),
        (
            {"channel": "wechat", "provider_template_id": "T1", "provider_params": {"first": "{{ nam }}"}},
            {"provider_params.first": ["Line 1: “nam” is not a merge field of this record type."]},
        ),
        (
            {"channel": "wechat", "provider_template_id": "T1", "provider_params": {"bad key": "x"}},
            {"provider_params": ["Parameter “bad key”: use up to 50 letters, digits and _."]},
        ),
        ({"colour": "red"}, {"colour": ["Unknown field."]}),
    ],
)
def test_bad_templates_are_refused(org: Any, tier: Any, overrides: dict[str, Any], fields: dict[str, Any]) -> None:
    with translation.override("en"), pytest.raises(ValidationFailed) as failed:
        message_template_create(actor=org.actor("marketer"), data=template_data(**overrides))
    assert failed.value.fields == fields
    assert MessageTemplate.objects.count() == 0


def test_names_are_unique_and_channel_is_fixed(org: Any, tier: Any) -> None:
    template = message_template_create(actor=org.actor("marketer"), data=template_data())
    with translation.override("en"), pytest.raises(ValidationFailed) as failed:
        message_template_create(actor=org.actor("marketer"), data=template_data(name=" 春季促销 "))
    assert failed.value.fields == {"name": ["Another template already has this name."]}
    changed = message_template_update(
        actor=org.actor("marketer"), template_id=template.pk, data={"channel": "sms"}, version=None
    )
    assert changed.channel == "email"


def test_only_template_managers_write_templates(org: Any, tier: Any) -> None:
    for name in ("rep_north", "analyst", "service"):
        with pytest.raises(PermissionDenied):
            message_template_create(actor=org.actor(name), data=template_data())


def test_a_used_template_cannot_be_deleted_only_deactivated(org: Any, tier: Any) -> None:
    used = message_template_create(actor=org.actor("marketer"), data=template_data())
    unused = message_template_create(actor=org.actor("marketer"), data=template_data(name="unused"))
    customer = make_customer(org.rep_north)
    message_send(
        actor=org.actor("marketer"), channel="email", record_type=CUSTOMER, record_id=customer.pk, template_id=used.pk
    )
    with translation.override("en"), pytest.raises(Conflict) as conflict:
        message_template_delete(actor=org.actor("marketer"), template_id=used.pk)
    assert conflict.value.message == "This template was used for 1 messages; deactivate it instead of deleting it."
    message_template_delete(actor=org.actor("marketer"), template_id=unused.pk)
    assert list(MessageTemplate.objects.values_list("name", flat=True)) == ["春季促销"]


# Rendering for a recipient ------------------------------------------------------------------------------


def test_sending_a_template_renders_it_in_the_recipient_language(
    org: Any, tier: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    template = message_template_create(actor=org.actor("marketer"), data=template_data())
    customer = make_customer(org.rep_north, given_name="伟", custom_fields={"tier": "gold"})
    settings.LANGUAGE_CODE = "zh-hans"
    with django_capture_on_commit_callbacks(execute=True):
        message = message_send(
            actor=org.actor("marketer"),
            channel="email",
            record_type=CUSTOMER,
            record_id=customer.pk,
            template_id=template.pk,
        )
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT and message.template == template and message.language == "zh-hans"
    assert message.subject == "张伟，春季新品"
    assert message.body.startswith("伟，您好！\n您的会员等级：金卡。\n\n--\n如不想再收到此类邮件")
    settings.LANGUAGE_CODE = "en"
    english = message_send(
        actor=org.actor("marketer"),
        channel="email",
        record_type=CUSTOMER,
        record_id=customer.pk,
        template_id=template.pk,
    )
    assert english.language == "en" and english.subject == "Spring news for 张伟"
    assert english.body.startswith("Dear 张伟,\nyour tier: Gold.\n\n--\nTo stop receiving these emails")
    assert len(memory.outbox) == 1


def test_a_template_with_only_one_language_is_used_for_everyone(org: Any, tier: Any, settings: Any) -> None:
    template = message_template_create(
        actor=org.actor("marketer"), data=template_data(subject_en="", body_en="", body_zh="{{ name }}，您好")
    )
    settings.LANGUAGE_CODE = "en"
    customer = make_customer(org.rep_north)
    message = message_send(
        actor=org.actor("marketer"),
        channel="email",
        record_type=CUSTOMER,
        record_id=customer.pk,
        template_id=template.pk,
        purpose="marketing",
    )
    assert message.language == "zh-hans" and message.body.startswith("张伟，您好\n\n--\n如不想")


def test_template_must_fit_the_message(org: Any, tier: Any) -> None:
    email = message_template_create(actor=org.actor("marketer"), data=template_data())
    customer = make_customer(org.rep_north, phone="+8613800138000")
    with translation.override("en"), pytest.raises(ValidationFailed) as failed:
        message_send(
            actor=org.actor("marketer"),
            channel="sms",
            record_type=CUSTOMER,
            record_id=customer.pk,
            template_id=email.pk,
        )
    assert failed.value.fields == {"template_id": ["This template is for Email messages."]}
    with translation.override("en"), pytest.raises(ValidationFailed) as failed:
        message_send(
            actor=org.actor("rep_north"),
            channel="email",
            record_type=CUSTOMER,
            record_id=customer.pk,
            template_id=email.pk,
            purpose="transactional",
        )
    assert failed.value.fields == {"purpose": ["This is a marketing template: send it as a marketing message."]}
    MessageTemplate.objects.filter(pk=email.pk).update(is_active=False)
    with translation.override("en"), pytest.raises(ValidationFailed) as failed:
        message_send(
            actor=org.actor("marketer"),
            channel="email",
            record_type=CUSTOMER,
            record_id=customer.pk,
            template_id=email.pk,
        )
    assert failed.value.fields == {"template_id": ["Choose an active template from the list."]}


def test_sms_provider_template_parameters_are_rendered(org: Any, tier: Any) -> None:
    template = message_template_create(
        actor=org.actor("marketer"),
        data=template_data(
            channel="sms",
            subject_zh="",
            subject_en="",
            body_zh="{{ name }}，会员日8折",
            body_en="",
            provider_template_id="SMS_123",
            provider_params={"name": "{{ name }}", "tier": "{{ custom_fields.tier }}"},
        ),
    )
    customer = make_customer(org.rep_north, phone="+8613800138000", custom_fields={"tier": "gold"})
    message = message_send(
        actor=org.actor("marketer"), channel="sms", record_type=CUSTOMER, record_id=customer.pk, template_id=template.pk
    )
    assert message.provider_template_id == "SMS_123"
    assert message.provider_data == {"name": "张伟", "tier": "金卡"}
    assert message.body == "张伟，会员日8折回复TD退订"


# Preview -------------------------------------------------------------------------------------------------


def test_preview_renders_against_a_customer_the_actor_can_see(org: Any, tier: Any) -> None:
    template = message_template_create(actor=org.actor("marketer"), data=template_data())
    customer = make_customer(org.rep_north, custom_fields={"tier": "gold"})
    hidden = make_customer(org.rep_south, email="s@example.com")
    with translation.override("en"):
        preview = template_preview(
            actor=org.actor("rep_north"), texts=template, record_type=CUSTOMER, record_id=customer.pk, language="en"
        )
    assert preview.record_label == "张伟" and preview.to_address == "zhang.wei@example.com"
    assert preview.composed.subject == "Spring news for 张伟"
    assert preview.composed.body.startswith("Dear 张伟,\nyour tier: Gold.\n\n--\nTo stop receiving")
    zh = template_preview(
        actor=org.actor("rep_north"), texts=template, record_type=CUSTOMER, record_id=customer.pk, language="zh-hans"
    )
    assert zh.composed.subject == "张伟，春季新品" and "金卡" in zh.composed.body
    with pytest.raises(NotFound):
        template_preview(actor=org.actor("rep_north"), texts=template, record_type=CUSTOMER, record_id=hidden.pk)
    assert memory.outbox == []


def test_preview_warns_when_the_customer_has_no_address(org: Any, tier: Any) -> None:
    template = message_template_create(actor=org.actor("marketer"), data=template_data())
    customer = make_customer(org.rep_north, email=None)
    with translation.override("en"):
        preview = template_preview(
            actor=org.actor("marketer"), texts=template, record_type=CUSTOMER, record_id=customer.pk
        )
    assert preview.warnings == ["This record has no address for this channel; the message could not be sent to it."]
    assert preview.to_address == "" and preview.composed.subject.endswith("张伟")


def test_analysts_see_masked_addresses_in_previews(org: Any, tier: Any) -> None:
    template = message_template_create(actor=org.actor("marketer"), data=template_data())
    customer = make_customer(org.rep_north)
    with pytest.raises(PermissionDenied):  # analysts neither send nor manage templates
        template_preview(actor=org.actor("analyst"), texts=template, record_type=CUSTOMER, record_id=customer.pk)
    from guanxi.platform.channels.selectors import shown_address

    assert shown_address(org.actor("analyst"), "email", "zhang.wei@example.com") == "z***@example.com"
    assert shown_address(org.actor("analyst"), "sms", "+8613800138000") == "+86138****8000"
