"""The recipient sources customers registers: addresses per channel with consent, merge fields, visibility."""

from __future__ import annotations

from typing import Any

from guanxi.customers.models import ContactPoint
from guanxi.platform.channels.registry import recipient_source
from guanxi.platform.customfields.models import CustomFieldDefinition
from tests.factories import LeadFactory
from tests.platform.channels.conftest import CUSTOMER, make_customer


def test_customer_addresses_per_channel_primary_first_and_no_sms_to_landlines(org: Any) -> None:
    customer = make_customer(org.rep_north, phone="+861062345678", wechat="wxid_zhangwei")  # a Beijing landline
    ContactPoint.objects.create(customer=customer, kind="phone", value="+8613800138000", consent="withdrawn")
    ContactPoint.objects.create(customer=customer, kind="email", value="second@example.com", consent="unknown")
    source = recipient_source(CUSTOMER)
    assert source is not None
    emails = source.resolve(customer.pk, "email")
    assert [(r.address, r.consent) for r in emails] == [
        ("zhang.wei@example.com", "granted"),
        ("second@example.com", "unknown"),
    ]
    assert [(r.address, r.consent) for r in source.resolve(customer.pk, "sms")] == [("+8613800138000", "withdrawn")]
    assert [r.address for r in source.resolve(customer.pk, "wechat")] == ["wxid_zhangwei"]
    assert source.resolve(customer.pk, "fax") == [] and source.resolve(987654, "email") == []


def test_customer_merge_fields_and_context(org: Any) -> None:
    CustomFieldDefinition.objects.create(
        target=CUSTOMER, key="vip", label_zh="贵宾", label_en="VIP", field_type="boolean"
    )
    CustomFieldDefinition.objects.create(
        target=CUSTOMER, key="old", label_zh="旧", label_en="Old", field_type="text", is_active=False
    )
    source = recipient_source(CUSTOMER)
    assert source is not None
    names = [field.name for field in source.merge_fields()]
    assert names == [
        "name", "family_name", "given_name", "company_name", "owner_name", "lifecycle_stage", "custom_fields.vip"
    ]  # fmt: skip
    customer = make_customer(org.rep_north, family_name="张", given_name="伟", lifecycle_stage="dormant",
                             custom_fields={"vip": True, "old": "x"})  # fmt: skip
    zh = source.merge_context(customer.pk, "zh-hans")
    assert (zh["family_name"], zh["given_name"], zh["owner_name"]) == ("张", "伟", str(org.rep_north))
    assert zh["custom_fields"] == {"vip": "是"}
    en = source.merge_context(customer.pk, "en")
    assert (en["lifecycle_stage"], en["custom_fields"]) == ("Dormant", {"vip": "Yes"})


def test_customer_visibility_for_logs_and_previews(org: Any) -> None:
    mine = make_customer(org.rep_north)
    theirs = make_customer(org.rep_south, email="s@example.com")
    source = recipient_source(CUSTOMER)
    assert source is not None
    assert source.is_visible(org.actor("rep_north"), mine.pk) and not source.is_visible(
        org.actor("rep_north"), theirs.pk
    )
    assert source.is_visible(None, theirs.pk) and not source.is_visible(None, 987654)
    visible = source.visible_ids(org.actor("rep_north"))
    assert visible is not None and list(visible.values_list("pk", flat=True)) == [mine.pk]
    assert source.visible_ids(org.actor("admin")) is None  # every customer: no subquery needed
    assert source.record_labels([mine.pk, theirs.pk]) == {mine.pk: "张伟", theirs.pk: "张伟"}
    assert source.record_url(mine.pk) == f"/customers/{mine.pk}/"


def test_leads_are_recipients_without_consent(org: Any) -> None:
    lead = LeadFactory(owner=org.rep_north, name="王芳", email="wang@example.com", phone="+8613900139000")
    source = recipient_source("customers.lead")
    assert source is not None
    assert [(r.address, r.consent) for r in source.resolve(lead.pk, "sms")] == [("+8613900139000", "unknown")]
    assert source.resolve(lead.pk, "wechat") == []
    assert source.merge_context(lead.pk, "zh-hans")["name"] == "王芳"
    assert source.is_visible(org.actor("rep_north"), lead.pk) and not source.is_visible(org.actor("rep_south"), lead.pk)
    assert source.withdraw_consent("email", "wang@example.com", "link") == 0
