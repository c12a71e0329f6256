"""Pages: the message log (filters, badges, held reasons, fixed queries), a message, sending from a record, the
record page's panel, templates with the live preview, the contact policy and the public unsubscribe page."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from guanxi.platform.channels.models import ContactPolicy, MessageTemplate, OutboundMessage, Suppression
from guanxi.platform.channels.services import message_send
from guanxi.platform.channels.unsubscribe import unsubscribe_token
from tests.platform.channels.conftest import CUSTOMER, make_customer


def client(user: Any, language: str = "en") -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE=language)
    c.force_login(user)
    c.cookies["django_language"] = language
    return c


def sent(actor: Any, customer: Any, purpose: str = "transactional", **kwargs: Any) -> OutboundMessage:
    params = {"channel": "email", "subject": "订单通知", "body": "{{ name }}，您好"} | kwargs
    return message_send(actor=actor, record_type=CUSTOMER, record_id=customer.pk, purpose=purpose, **params)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_log_shows_status_badges_and_held_reasons_in_both_languages(org: Any, language: str) -> None:
    customer = make_customer(org.rep_north, consent="unknown")
    sent(org.actor("admin"), customer)
    sent(org.actor("marketer"), customer, purpose="marketing", subject="春季新品")
    page = client(org.admin, language).get(reverse("channels:message_list"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "订单通知" in html and "春季新品" in html and "张伟" in html
    assert reverse("customers:customer_detail", args=[customer.pk]) in html
    if language == "en":
        assert ">Held<" in html and "its consent is “Not asked”" in html and "Messages" in html
    assert 'class="badge badge-warn"' in html


def test_the_log_filters_and_hides_other_teams_messages(org: Any) -> None:
    mine = make_customer(org.rep_north, phone="+8613800138000")
    theirs = make_customer(org.rep_south, name="孙七", email="sun@example.com")
    sent(org.actor("admin"), mine, channel="sms", subject="", body="短信通知")
    sent(org.actor("admin"), theirs, subject="南方通知")
    html = client(org.rep_north).get(reverse("channels:message_list")).content.decode()
    assert "短信通知" in html and "南方通知" not in html
    filtered = client(org.admin).get(reverse("channels:message_list"), {"channel": "email"}).content.decode()
    assert "南方通知" in filtered and "短信通知" not in filtered
    bad = client(org.admin).get(reverse("channels:message_list"), {"status": "lost"})
    assert bad.status_code == 422 and "Choose a value from the list." in bad.content.decode()


def test_the_log_page_runs_a_fixed_number_of_queries(org: Any) -> None:
    c = client(org.manager_north)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert c.get(reverse("channels:message_list")).status_code == 200
        return len(queries)

    for n in range(2):
        sent(org.actor("admin"), make_customer(org.rep_north, name=f"客户{n}", email=f"c{n}@example.com"))
    few = count()
    for n in range(2, 10):
        owner = org.rep_north if n % 2 else org.rep_north_sub
        sent(org.actor("admin"), make_customer(owner, name=f"客户{n}", email=f"c{n}@example.com"))
    assert count() == few


def test_message_detail_and_sending_again(org: Any) -> None:
    customer = make_customer(org.rep_north)
    message = sent(org.actor("admin"), customer)
    OutboundMessage.objects.filter(pk=message.pk).update(
        status="failed", last_error_code="smtp_550", last_error="mailbox unavailable"
    )
    c = client(org.rep_north)
    html = c.get(reverse("channels:message_detail", args=[message.pk])).content.decode()
    assert "smtp_550" in html and "mailbox unavailable" in html and "Send again" in html
    assert client(org.rep_south).get(reverse("channels:message_detail", args=[message.pk])).status_code == 404
    response = c.post(reverse("channels:message_retry", args=[message.pk]))
    assert response.status_code == 302
    assert OutboundMessage.objects.get(pk=message.pk).status == "queued"


def test_sending_from_a_record_page(org: Any, django_capture_on_commit_callbacks: Any) -> None:
    customer = make_customer(org.rep_north)
    c = client(org.rep_north)
    url = reverse("channels:message_compose")
    form = c.get(url, {"record_type": CUSTOMER, "record_id": customer.pk})
    html = form.content.decode()
    assert form.status_code == 200 and "Send a message to 张伟" in html
    assert 'value="marketing"' not in html  # reps send transactional messages only
    with django_capture_on_commit_callbacks(execute=True):
        response = c.post(
            url,
            {
                "record_type": CUSTOMER,
                "record_id": customer.pk,
                "channel": "email",
                "purpose": "transactional",
                "subject": "预约确认",
                "body": "{{ name }}，已为您预约",
            },
        )
    message = OutboundMessage.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("channels:message_detail", args=[message.pk])
    assert (message.status, message.body) == ("sent", "张伟，已为您预约")
    bad = c.post(
        url,
        {"record_type": CUSTOMER, "record_id": customer.pk, "channel": "sms", "purpose": "transactional", "body": "x"},
    )
    assert bad.status_code == 422 and "This record has no mobile phone number." in bad.content.decode()
    hidden = make_customer(org.rep_south, email="s@example.com")
    assert c.get(url, {"record_type": CUSTOMER, "record_id": hidden.pk}).status_code == 404
    assert client(org.analyst).get(url, {"record_type": CUSTOMER, "record_id": customer.pk}).status_code == 403


def test_the_customer_page_has_a_messages_panel(org: Any) -> None:
    customer = make_customer(org.rep_north)
    sent(org.actor("admin"), customer, subject="发票已开具")
    c = client(org.rep_north)
    detail = c.get(reverse("customers:customer_detail", args=[customer.pk])).content.decode()
    panel_url = reverse("channels:record_panel")
    assert f'hx-get="{panel_url}?target=customers.customer&amp;object_id={customer.pk}"' in detail
    panel = c.get(panel_url, {"target": CUSTOMER, "object_id": customer.pk}, HTTP_HX_REQUEST="true")
    html = panel.content.decode()
    assert panel.status_code == 200 and "发票已开具" in html and "Send a message" in html
    assert client(org.rep_south).get(panel_url, {"target": CUSTOMER, "object_id": customer.pk}).status_code == 404
    no_permission = Client()
    no_permission.force_login(org.rep_north)
    org.rep_north.role.permissions = [p for p in org.rep_north.role.permissions if not p.startswith("messages.")]
    org.rep_north.role.save()
    empty = no_permission.get(panel_url, {"target": CUSTOMER, "object_id": customer.pk})
    assert empty.status_code == 200 and empty.content == b""


# Templates ------------------------------------------------------------------------------------------------


FORM = {
    "name": "会员日",
    "channel": "email",
    "record_type": CUSTOMER,
    "purpose": "marketing",
    "subject_zh": "{{ name }}，会员日",
    "body_zh": "{{ name }}，本周六会员日全场8折。",
    "subject_en": "",
    "body_en": "",
    "provider_template_id": "",
    "provider_params": "",
    "is_active": "on",
}


def test_templates_are_created_and_edited_from_the_pages(org: Any) -> None:
    c = client(org.marketer)
    assert c.get(reverse("channels:template_list")).status_code == 200
    assert c.get(reverse("channels:template_create")).status_code == 200
    created = c.post(reverse("channels:template_create"), FORM)
    assert created.status_code == 302, created.content.decode()[:2000]
    template = MessageTemplate.objects.get()
    edit_url = reverse("channels:template_edit", args=[template.pk])
    page = c.get(edit_url).content.decode()
    assert "会员日" in page and "{{ name }}" in page and 'hx-post="/settings/message-templates/preview/"' in page
    changed = c.post(edit_url, FORM | {"name": "会员日2", "version": 1, "channel": "sms"})
    assert changed.status_code == 302
    template.refresh_from_db()
    assert (template.name, template.channel, template.version) == ("会员日2", "email", 2)
    html = c.get(reverse("channels:template_list")).content.decode()
    assert "会员日2" in html
    history = c.get(edit_url).content.decode()
    assert 'id="template-history"' in history and "<del>会员日</del> → <ins>会员日2</ins>" in history


def test_template_form_errors_name_field_and_line(org: Any) -> None:
    c = client(org.marketer)
    response = c.post(reverse("channels:template_create"), FORM | {"body_zh": "你好\n{{ name|center:'9' }}"})
    assert response.status_code == 422
    assert "Line 2: the filter “center” cannot be used in message templates." in response.content.decode()
    params = c.post(
        reverse("channels:template_create"), FORM | {"channel": "sms", "subject_zh": "", "provider_params": "just text"}
    )
    assert params.status_code == 422 and "Line 1: write name = text" in params.content.decode()
    assert MessageTemplate.objects.count() == 0


def test_live_preview_renders_the_unsaved_text_for_a_customer(org: Any) -> None:
    customer = make_customer(org.rep_north)
    c = client(org.marketer)
    url = reverse("channels:template_preview")
    hint = c.post(url, FORM, HTTP_HX_REQUEST="true")
    assert hint.status_code == 200 and "Enter a customer number" in hint.content.decode()
    preview = c.post(url, FORM | {"record_id": customer.pk, "language": "zh-hans"}, HTTP_HX_REQUEST="true")
    html = preview.content.decode()
    assert preview.status_code == 200 and "张伟，会员日" in html and "张伟，本周六会员日全场8折。" in html
    assert "如不想再收到此类邮件" in html and "z***@example.com" in html  # marketers see addresses masked
    broken = c.post(url, FORM | {"record_id": customer.pk, "body_zh": "{{ nmae }}"}, HTTP_HX_REQUEST="true")
    assert broken.status_code == 422 and "“nmae” is not a merge field" in broken.content.decode()
    missing = c.post(url, FORM | {"record_id": 999999}, HTTP_HX_REQUEST="true")
    assert missing.status_code == 422 and "No record with this number that you can see." in missing.content.decode()


def test_deleting_a_template_from_its_page(org: Any) -> None:
    c = client(org.marketer)
    c.post(reverse("channels:template_create"), FORM)
    template = MessageTemplate.objects.get()
    assert c.post(reverse("channels:template_delete", args=[template.pk])).status_code == 302
    assert MessageTemplate.objects.count() == 0


def test_reps_cannot_open_template_or_policy_settings(org: Any) -> None:
    rep = client(org.rep_north)
    for name in ("channels:template_list", "channels:template_create", "channels:policy"):
        assert rep.get(reverse(name)).status_code == 403
    assert client(org.marketer).get(reverse("channels:policy")).status_code == 403


# Contact policy ----------------------------------------------------------------------------------------


def test_the_policy_page_saves_caps_and_quiet_hours(org: Any) -> None:
    c = client(org.admin)
    page = c.get(reverse("channels:policy"))
    assert page.status_code == 200 and "Quiet hours" in page.content.decode()
    policy = ContactPolicy.objects.get()
    data = {
        "caps_enabled": "on",
        "email_cap_count": "2",
        "email_cap_days": "14",
        "sms_cap_count": "",
        "sms_cap_days": "7",
        "wechat_cap_count": "1",
        "wechat_cap_days": "7",
        "quiet_hours_enabled": "on",
        "quiet_start": "22:00",
        "quiet_end": "08:00",
        "quiet_time_zone": "Asia/Shanghai",
        "quiet_channels": ["sms", "wechat"],
        "version": str(policy.version),
    }
    assert c.post(reverse("channels:policy"), data).status_code == 302
    policy.refresh_from_db()
    assert (policy.email_cap_count, policy.email_cap_days, policy.sms_cap_count) == (2, 14, None)
    assert 'id="policy-history"' in c.get(reverse("channels:policy")).content.decode()
    assert policy.quiet_channels == ["sms", "wechat"] and policy.quiet_start.hour == 22
    stale = c.post(reverse("channels:policy"), data)
    assert stale.status_code == 422 and "changed by someone else" in stale.content.decode()
    zone = c.post(reverse("channels:policy"), data | {"version": str(policy.version), "quiet_time_zone": "Nowhere"})
    assert zone.status_code == 422 and "Enter a time zone such as Asia/Shanghai." in zone.content.decode()


def test_addresses_are_blocked_and_released_on_the_policy_page(org: Any) -> None:
    c = client(org.admin)
    added = c.post(
        reverse("channels:suppression_create"), {"channel": "email", "address": "Spam@Example.com", "reason": "blocked"}
    )
    assert added.status_code == 302
    item = Suppression.objects.get()
    assert (item.address, item.reason, item.created_by) == ("spam@example.com", "blocked", org.admin)
    assert "spam@example.com" in c.get(reverse("channels:policy")).content.decode()
    twice = c.post(
        reverse("channels:suppression_create"), {"channel": "email", "address": "spam@example.com", "reason": "blocked"}
    )
    assert twice.status_code == 422 and "already on the list" in twice.content.decode()
    assert c.post(reverse("channels:suppression_delete", args=[item.pk])).status_code == 302
    assert Suppression.objects.count() == 0


# Unsubscribe page -----------------------------------------------------------------------------------------


def test_the_unsubscribe_page_needs_a_valid_token_and_a_press(org: Any) -> None:
    customer = make_customer(org.rep_north)
    anonymous = Client(HTTP_ACCEPT_LANGUAGE="en")
    bad = anonymous.get(reverse("channels:unsubscribe", args=["forged:token"]))
    assert bad.status_code == 404 and "This unsubscribe link is not valid." in bad.content.decode()
    url = reverse("channels:unsubscribe", args=[unsubscribe_token("email", "zhang.wei@example.com")])
    page = anonymous.get(url)
    assert page.status_code == 200 and "zhang.wei@example.com" in page.content.decode()
    assert Suppression.objects.count() == 0
    done = anonymous.post(url)
    assert done.status_code == 200
    assert Suppression.objects.get().address == "zhang.wei@example.com"
    assert customer.contact_points.get().consent == "withdrawn"
    one_click = reverse("channels:unsubscribe_one_click", args=[unsubscribe_token("email", "x@example.com")])
    assert anonymous.post(one_click, {"List-Unsubscribe": "Nope"}).status_code == 400
    assert anonymous.post(reverse("channels:unsubscribe_one_click", args=["forged"])).status_code == 404
