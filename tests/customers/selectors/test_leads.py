"""Lead selectors: visibility, filters, the conversion preview and masked history."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from guanxi.customers.models import Lead
from guanxi.customers.models.choices import CustomerKind, LeadStatus
from guanxi.customers.selectors.leads import (
    LeadFilters,
    lead_contact_display_for,
    lead_conversion_preview,
    lead_get,
    lead_history,
    lead_list,
    shared_custom_values,
)
from guanxi.customers.services.leads import lead_assign, lead_create, lead_update
from guanxi.platform.core.errors import NotFound, PermissionDenied, ValidationFailed
from guanxi.platform.customfields.models import CustomFieldDefinition, FieldType
from guanxi.platform.identity.models import User
from tests.factories import CustomerFactory, actor


def _names(actor: Any, **params: Any) -> list[str]:
    return [lead.name for lead in lead_list(actor=actor, filters=LeadFilters.from_params(params))]


def _lead(org: Any, user: str, **data: Any) -> Lead:
    return lead_create(actor=org.actor(user), data={"company_name": "某公司", **data})


# Visibility ---------------------------------------------------------------------------------


def test_each_role_sees_the_leads_of_its_scope(org: Any) -> None:
    _lead(org, "rep_north", name="北一")
    _lead(org, "rep_north_sub", name="北二")
    _lead(org, "rep_south", name="南一")
    assert _names(org.actor("rep_north")) == ["北一"]
    assert _names(org.actor("rep_south")) == ["南一"]
    assert _names(org.actor("manager_north")) == ["北二", "北一"]
    assert _names(org.actor("analyst")) == ["南一", "北二", "北一"]
    assert _names(org.actor("marketer")) == ["南一", "北二", "北一"]


def test_lead_get_answers_not_found_for_another_reps_lead(org: Any) -> None:
    lead = _lead(org, "rep_north", name="北一")
    assert lead_get(actor=org.actor("rep_north"), lead_id=lead.pk) == lead
    with pytest.raises(NotFound):
        lead_get(actor=org.actor("rep_south"), lead_id=lead.pk)
    with pytest.raises(NotFound):
        lead_get(actor=org.actor("rep_north"), lead_id=lead.pk + 1000)


def test_a_user_without_leads_view_is_refused(org: Any) -> None:
    role = org.rep_south.role
    role.permissions = [p for p in role.permissions if p != "leads.view"]
    role.save()
    with pytest.raises(PermissionDenied):
        lead_list(actor=actor(User.objects.get(pk=org.rep_south.pk)))


# Filters ------------------------------------------------------------------------------------


def test_search_by_pinyin_initials_phone_suffix_email_and_company(org: Any) -> None:
    _lead(org, "rep_north", name="张伟", phone="13812345678", email="zw@example.com", company_name="星河科技")
    _lead(org, "rep_north", name="李娜", phone="13900001111")
    rep = org.actor("rep_north")
    assert _names(rep, q="zhangwei") == ["张伟"]
    assert _names(rep, q="zw") == ["张伟"]
    assert _names(rep, q="5678") == ["张伟"]
    assert _names(rep, q="zw@exa") == ["张伟"]
    assert _names(rep, q="星河") == ["张伟"]
    assert _names(rep, q="李") == ["李娜"]


def test_filter_by_status_open_source_owner_team_and_dates(org: Any) -> None:
    first = _lead(org, "rep_north", name="甲", source="event")
    second = _lead(org, "rep_north_sub", name="乙", source="website")
    third = _lead(org, "manager_north", name="丙")
    Lead.objects.filter(pk=second.pk).update(status=LeadStatus.UNQUALIFIED)
    Lead.objects.filter(pk=third.pk).update(owner=None, status=LeadStatus.QUALIFIED)
    Lead.objects.filter(pk=first.pk).update(created_at=timezone.now() - dt.timedelta(days=10))
    manager = org.actor("manager_north")
    assert _names(manager, status="unqualified") == ["乙"]
    assert _names(manager, status="open") == ["丙", "甲"]
    assert _names(manager, source="event") == ["甲"]
    assert _names(manager, owner="none") == ["丙"]
    assert _names(manager, owner="me") == []
    assert _names(manager, owner=str(org.rep_north.pk)) == ["甲"]
    assert _names(manager, owner_id=org.rep_north_sub.pk) == ["乙"]
    assert _names(manager, team_id=org.north_sub.pk) == ["乙"]
    assert _names(manager, team_id=org.north.pk) == ["丙", "乙", "甲"]
    today = timezone.localdate()
    assert _names(manager, created_from=str(today - dt.timedelta(days=1))) == ["丙", "乙"]
    assert _names(manager, created_to=str(today - dt.timedelta(days=5))) == ["甲"]


def test_filter_by_custom_field(org: Any) -> None:
    CustomFieldDefinition.objects.create(
        target="customers.lead", key="tier", label_zh="级别", label_en="Tier", field_type=FieldType.CHOICE,
        choices=[{"value": "a", "label_zh": "A", "label_en": "A"}, {"value": "b", "label_zh": "B", "label_en": "B"}],
    )  # fmt: skip
    _lead(org, "rep_north", name="甲", custom_fields={"tier": "a"})
    _lead(org, "rep_north", name="乙", custom_fields={"tier": "b"})
    assert _names(org.actor("rep_north"), **{"cf.tier": "b"}) == ["乙"]
    with pytest.raises(ValidationFailed) as exc:
        _names(org.actor("rep_north"), **{"cf.tier": "z"})
    assert set(exc.value.fields) == {"cf.tier"}


def test_bad_filter_values_name_the_parameter(org: Any) -> None:
    for params, field in [
        ({"status": "won"}, "status"),
        ({"source": "tv"}, "source"),
        ({"owner": "someone"}, "owner"),
        ({"team_id": "x"}, "team_id"),
        ({"created_from": "2024-13-01"}, "created_from"),
    ]:
        with pytest.raises(ValidationFailed) as exc:
            LeadFilters.from_params(params)
        assert set(exc.value.fields) == {field}
    with pytest.raises(ValidationFailed) as exc:
        lead_list(actor=org.actor("rep_north"), sort="status")
    assert set(exc.value.fields) == {"sort"}


def test_sort_by_name(org: Any) -> None:
    _lead(org, "rep_north", name="Bob")
    _lead(org, "rep_north", name="Anna")
    assert [lead.name for lead in lead_list(actor=org.actor("rep_north"), sort="name")] == ["Anna", "Bob"]


# Presentation -------------------------------------------------------------------------------


def test_personal_data_is_masked_for_roles_without_the_permission(org: Any) -> None:
    lead = _lead(org, "rep_north", name="张伟", phone="13812345678", email="zhang.wei@example.com", wechat="zhangwei88")
    clear = lead_contact_display_for(org.actor("rep_north"), lead)
    masked = lead_contact_display_for(org.actor("analyst"), lead)
    assert (clear.phone, clear.email, clear.wechat) == ("138 1234 5678", "zhang.wei@example.com", "zhangwei88")
    assert (masked.phone, masked.email, masked.wechat) == ("138 **** 5678", "z***@example.com", "z******")


def test_history_masks_personal_data_for_roles_without_the_permission(org: Any) -> None:
    lead = _lead(org, "rep_north", name="张伟", phone="13812345678")
    lead_update(actor=org.actor("rep_north"), lead=lead, data={"phone": "13900001111"})
    changes = {
        c.field: (c.before, c.after) for e in lead_history(actor=org.actor("analyst"), lead=lead) for c in e.changes
    }
    assert changes["phone"] == ("+86138****5678", "+86139****1111")
    changes = {
        c.field: (c.before, c.after) for e in lead_history(actor=org.actor("rep_north"), lead=lead) for c in e.changes
    }
    assert changes["phone"] == ("+8613812345678", "+8613900001111")


def test_shared_custom_values_keep_keys_of_the_same_type_valid_for_customers(db: None) -> None:
    for target in ("customers.lead", "customers.customer"):
        CustomFieldDefinition.objects.create(
            target=target, key="budget", label_zh="预算", label_en="Budget", field_type=FieldType.NUMBER
        )
    CustomFieldDefinition.objects.create(
        target="customers.lead", key="size", label_zh="规模", label_en="Size", field_type=FieldType.TEXT
    )
    CustomFieldDefinition.objects.create(
        target="customers.customer", key="size", label_zh="规模", label_en="Size", field_type=FieldType.NUMBER
    )
    CustomFieldDefinition.objects.create(
        target="customers.lead", key="note", label_zh="备注", label_en="Note", field_type=FieldType.TEXT
    )
    assert shared_custom_values({"budget": "100", "size": "big", "note": "x", "gone": 1}) == {"budget": "100"}


def test_conversion_preview_offers_matching_visible_organisations(org: Any) -> None:
    lead = _lead(org, "rep_north", name="张伟", company_name="星河科技")
    mine = CustomerFactory(owner=org.rep_north, kind=CustomerKind.ORGANISATION, name="星河科技集团")
    CustomerFactory(owner=org.rep_south, kind=CustomerKind.ORGANISATION, name="星河科技南方")
    CustomerFactory(owner=org.rep_north, kind=CustomerKind.PERSON, name="星河科技的人")
    other = CustomerFactory(owner=org.rep_north, kind=CustomerKind.ORGANISATION, name="月亮贸易")
    preview = lead_conversion_preview(actor=org.actor("rep_north"), lead=lead)
    assert preview.candidates == [mine]
    assert preview.default_mode == "create"
    assert lead_conversion_preview(actor=org.actor("rep_north"), lead=lead, search="月亮").candidates == [other]


def test_history_shows_labels_and_names(org: Any) -> None:
    lead = _lead(org, "rep_north", name="张伟", source="event")
    lead_update(actor=org.actor("rep_north"), lead=lead, data={"source": "website"})
    lead_assign(actor=org.actor("manager_north"), lead=lead, owner_id=org.rep_north_sub.pk)
    changes = [
        (c.field, c.before, c.after)
        for e in lead_history(actor=org.actor("manager_north"), lead=lead)
        for c in e.changes
    ]
    assert changes == [
        ("owner", str(org.rep_north), str(org.rep_north_sub)),
        ("team", str(org.north), str(org.north_sub)),
        ("source", "Event or trade show", "Website"),
    ]
