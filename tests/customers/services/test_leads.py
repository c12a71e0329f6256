"""Lead services: capture with normalisation, edit with versions, status, assignment, delete and conversion."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from guanxi.customers.models import ContactPoint, Customer, Interaction, Lead, Task
from guanxi.customers.models.choices import ContactKind, CustomerKind, LeadStatus, TaskStatus
from guanxi.customers.services.leads import (
    lead_assign,
    lead_convert,
    lead_create,
    lead_delete,
    lead_disqualify,
    lead_qualify,
    lead_set_status,
    lead_update,
)
from guanxi.platform.core.errors import Conflict, NotFound, PermissionDenied, StaleVersion, ValidationFailed
from guanxi.platform.customfields.models import CustomFieldDefinition, FieldType
from tests.factories import CustomerFactory, InteractionFactory, LeadFactory, TaskFactory


def _fields(exc: pytest.ExceptionInfo[ValidationFailed]) -> set[str]:
    return set(exc.value.fields)


@pytest.fixture
def budget_fields(db: None) -> None:
    """A custom field "budget" on both leads and customers, and "campaign" on leads only."""
    CustomFieldDefinition.objects.create(
        target="customers.lead", key="budget", label_zh="预算", label_en="Budget", field_type=FieldType.NUMBER
    )
    CustomFieldDefinition.objects.create(
        target="customers.customer", key="budget", label_zh="预算", label_en="Budget", field_type=FieldType.NUMBER
    )
    CustomFieldDefinition.objects.create(
        target="customers.lead", key="campaign", label_zh="活动", label_en="Campaign", field_type=FieldType.TEXT
    )


# Create -------------------------------------------------------------------------------------


def test_create_normalises_name_phone_email_and_pinyin(org: Any) -> None:
    lead = lead_create(
        actor=org.actor("rep_north"),
        data={
            "name": "  张伟 ",
            "phone": "138 1234 5678",
            "email": " Zhang.Wei@Example.COM ",
            "wechat": "zw 2024",
            "company_name": "北京星河科技有限公司",
            "source": "website",
        },
    )
    lead.refresh_from_db()
    assert lead.name == "张伟"
    assert lead.phone == "+8613812345678"
    assert lead.phone_search_key == "8613812345678"[::-1]
    assert lead.email == "zhang.wei@example.com"
    assert lead.wechat == "zw2024"
    assert (lead.name_pinyin, lead.name_initials) == ("zhangwei", "zw")
    assert lead.status == LeadStatus.NEW
    assert (lead.owner, lead.team, lead.created_by) == (org.rep_north, org.north, org.rep_north)
    assert lead.version == 1


def test_create_turns_full_width_input_into_half_width(org: Any) -> None:
    lead = lead_create(actor=org.actor("rep_north"), data={"name": "李娜", "phone": "１３９００００１１１１"})
    assert lead.phone == "+8613900001111"


def test_create_names_every_bad_field_at_once(org: Any) -> None:
    with pytest.raises(ValidationFailed) as exc:
        lead_create(
            actor=org.actor("rep_north"),
            data={"name": "", "phone": "12345", "email": "not-an-email", "source": "tv", "bogus": 1},
        )
    assert _fields(exc) == {"name", "phone", "email", "source", "bogus"}
    assert Lead.objects.count() == 0


def test_a_lead_needs_a_way_to_reach_it(org: Any) -> None:
    with pytest.raises(ValidationFailed) as exc:
        lead_create(actor=org.actor("rep_north"), data={"name": "王芳"})
    assert exc.value.fields == {"phone": ["Give at least a phone number, an email address, a WeChat ID or a company."]}
    assert lead_create(actor=org.actor("rep_north"), data={"name": "王芳", "company_name": "某公司"}).pk


def test_max_lengths_are_enforced(org: Any) -> None:
    with pytest.raises(ValidationFailed) as exc:
        lead_create(
            actor=org.actor("rep_north"),
            data={
                "name": "名" * 201,
                "company_name": "c" * 201,
                "job_title": "j" * 101,
                "industry": "i" * 101,
                "address": "a" * 301,
                "wechat": "w" * 101,
                "description": "d" * 5001,
            },
        )
    assert _fields(exc) == {"name", "company_name", "job_title", "industry", "address", "wechat", "description"}


def test_custom_fields_are_validated_with_the_lead_definitions(org: Any, budget_fields: None) -> None:
    with pytest.raises(ValidationFailed) as exc:
        lead_create(
            actor=org.actor("rep_north"),
            data={"name": "张伟", "company_name": "A", "custom_fields": {"budget": "lots", "nope": 1}},
        )
    assert _fields(exc) == {"custom_fields.budget", "custom_fields.nope"}
    lead = lead_create(
        actor=org.actor("rep_north"), data={"name": "张伟", "company_name": "A", "custom_fields": {"budget": "1,200"}}
    )
    assert lead.custom_fields == {"budget": "1200"}


def test_a_rep_cannot_give_a_new_lead_to_someone_else(org: Any) -> None:
    with pytest.raises(PermissionDenied):
        lead_create(
            actor=org.actor("rep_north"), data={"name": "张伟", "company_name": "A", "owner_id": org.rep_south.pk}
        )
    lead = lead_create(
        actor=org.actor("manager_north"), data={"name": "张伟", "company_name": "A", "owner_id": org.rep_north.pk}
    )
    assert (lead.owner, lead.team) == (org.rep_north, org.north)


def test_analyst_may_not_capture_leads(org: Any) -> None:
    with pytest.raises(PermissionDenied):
        lead_create(actor=org.actor("analyst"), data={"name": "张伟", "company_name": "A"})


# Update -------------------------------------------------------------------------------------


def test_update_changes_fields_and_bumps_the_version(org: Any) -> None:
    lead = lead_create(actor=org.actor("rep_north"), data={"name": "张伟", "phone": "13812345678"})
    updated = lead_update(
        actor=org.actor("rep_north"), lead=lead, data={"name": "李娜", "phone": "+86 139 0000 1111"}, expected_version=1
    )
    updated.refresh_from_db()
    assert (updated.name, updated.name_initials, updated.phone, updated.version) == ("李娜", "ln", "+8613900001111", 2)
    assert updated.phone_search_key == "8613900001111"[::-1]


def test_update_with_a_stale_version_is_refused(org: Any) -> None:
    lead = lead_create(actor=org.actor("rep_north"), data={"name": "张伟", "phone": "13812345678"})
    lead_update(actor=org.actor("rep_north"), lead=lead, data={"job_title": "经理"}, expected_version=1)
    with pytest.raises(StaleVersion):
        lead_update(actor=org.actor("rep_north"), lead=lead, data={"job_title": "总监"}, expected_version=1)
    lead.refresh_from_db()
    assert lead.job_title == "经理"


def test_update_cannot_remove_the_last_way_to_reach_the_lead(org: Any) -> None:
    lead = lead_create(actor=org.actor("rep_north"), data={"name": "张伟", "phone": "13812345678"})
    with pytest.raises(ValidationFailed) as exc:
        lead_update(actor=org.actor("rep_north"), lead=lead, data={"phone": ""})
    assert _fields(exc) == {"phone"}


def test_another_reps_lead_is_not_found_for_writes(org: Any) -> None:
    lead = LeadFactory(owner=org.rep_north, company_name="A")
    with pytest.raises(NotFound):
        lead_update(actor=org.actor("rep_south"), lead=lead, data={"name": "x"})
    with pytest.raises(NotFound):
        lead_qualify(actor=org.actor("rep_south"), lead=lead)
    with pytest.raises(NotFound):
        lead_convert(actor=org.actor("rep_south"), lead=lead)


# Status, assignment, delete -------------------------------------------------------------------


def test_qualify_and_disqualify_with_a_reason(org: Any) -> None:
    lead = LeadFactory(owner=org.rep_north, company_name="A")
    with pytest.raises(ValidationFailed) as exc:
        lead_disqualify(actor=org.actor("rep_north"), lead=lead, reason="  ")
    assert _fields(exc) == {"reason"}
    lead = lead_disqualify(actor=org.actor("rep_north"), lead=lead, reason="没有预算")
    assert (lead.status, lead.disqualified_reason, lead.version) == (LeadStatus.UNQUALIFIED, "没有预算", 2)
    lead = lead_qualify(actor=org.actor("rep_north"), lead=lead)
    assert (lead.status, lead.disqualified_reason) == (LeadStatus.QUALIFIED, "")
    lead = lead_set_status(actor=org.actor("rep_north"), lead=lead, status=LeadStatus.CONTACTED)
    assert lead.status == LeadStatus.CONTACTED


def test_converted_cannot_be_set_by_hand(org: Any) -> None:
    lead = LeadFactory(owner=org.rep_north, company_name="A")
    with pytest.raises(ValidationFailed) as exc:
        lead_set_status(actor=org.actor("rep_north"), lead=lead, status=LeadStatus.CONVERTED)
    assert _fields(exc) == {"status"}


def test_assign_to_others_needs_the_assign_permission(org: Any) -> None:
    lead = LeadFactory(owner=org.rep_north, company_name="A")
    with pytest.raises(PermissionDenied):
        lead_assign(actor=org.actor("rep_north"), lead=lead, owner_id=org.rep_north_sub.pk)
    lead = lead_assign(actor=org.actor("manager_north"), lead=lead, owner_id=org.rep_north_sub.pk)
    assert (lead.owner, lead.team, lead.version) == (org.rep_north_sub, org.north_sub, 2)


def test_delete_keeps_what_already_moved_to_a_customer(org: Any) -> None:
    lead = LeadFactory(owner=org.rep_north, company_name="A")
    customer = CustomerFactory(owner=org.rep_north)
    moved = InteractionFactory(customer=customer, lead=lead)
    InteractionFactory(customer=None, lead=lead)
    with pytest.raises(PermissionDenied):
        lead_delete(actor=org.actor("rep_north"), lead=lead)
    lead_delete(actor=org.actor("manager_north"), lead=lead)
    assert not Lead.objects.filter(pk=lead.pk).exists()
    assert list(Interaction.objects.values_list("pk", "lead_id")) == [(moved.pk, None)]


# Convert ------------------------------------------------------------------------------------


@pytest.fixture
def acme_lead(org: Any, budget_fields: None) -> Lead:
    return lead_create(
        actor=org.actor("rep_north"),
        data={
            "name": "张伟",
            "job_title": "采购经理",
            "company_name": "星河科技",
            "phone": "13812345678",
            "email": "zhang.wei@example.com",
            "wechat": "zhangwei88",
            "address": "北京市朝阳区建国路1号",
            "industry": "软件",
            "source": "event",
            "description": "展会上认识，对CRM有兴趣",
            "custom_fields": {"budget": "50000", "campaign": "2024展会"},
        },
    )


def test_convert_creates_an_organisation_and_its_contact_person(org: Any, acme_lead: Lead) -> None:
    when = timezone.now() - dt.timedelta(days=2)
    call = InteractionFactory(customer=None, lead=acme_lead, occurred_at=when, user=org.rep_north)
    open_task = TaskFactory(lead=acme_lead, assignee=org.rep_north)
    done_task = TaskFactory(lead=acme_lead, assignee=org.rep_north, status=TaskStatus.DONE)

    result = lead_convert(actor=org.actor("rep_north"), lead=acme_lead)

    organisation, person = result.customer, result.contact
    assert result.organisation_created is True
    assert (organisation.kind, organisation.name, organisation.industry, organisation.source) == (
        CustomerKind.ORGANISATION, "星河科技", "软件", "event",
    )  # fmt: skip
    assert organisation.notes == "展会上认识,对CRM有兴趣"  # full-width punctuation normalised on capture
    assert (organisation.owner, organisation.team) == (org.rep_north, org.north)
    assert organisation.custom_fields == {"budget": "50000"}
    assert (person.kind, person.name, person.job_title, person.organisation, person.company_name) == (
        CustomerKind.PERSON, "张伟", "采购经理", organisation, "星河科技",
    )  # fmt: skip
    assert (person.family_name, person.given_name, person.name_initials) == ("张", "伟", "zw")
    assert (person.owner, person.source, person.custom_fields) == (org.rep_north, "event", {"budget": "50000"})
    points = {(p.kind, p.value, p.is_primary) for p in ContactPoint.objects.filter(customer=person)}
    assert points == {
        (ContactKind.PHONE, "+8613812345678", True),
        (ContactKind.EMAIL, "zhang.wei@example.com", True),
        (ContactKind.WECHAT, "zhangwei88", True),
        (ContactKind.ADDRESS, "北京市朝阳区建国路1号", True),
    }
    assert ContactPoint.objects.get(customer=person, kind=ContactKind.PHONE).search_key == "8613812345678"[::-1]

    call.refresh_from_db()
    open_task.refresh_from_db()
    done_task.refresh_from_db()
    assert (call.customer_id, call.lead_id) == (organisation.pk, acme_lead.pk)
    assert (open_task.customer_id, open_task.lead_id) == (organisation.pk, acme_lead.pk)
    assert done_task.customer_id is None
    organisation.refresh_from_db()
    assert organisation.last_contact_at == when

    lead = Lead.objects.get(pk=acme_lead.pk)
    assert lead.status == LeadStatus.CONVERTED
    assert (lead.converted_customer, lead.converted_contact) == (organisation, person)
    assert lead.converted_at is not None
    assert lead.version == 2


def test_a_lead_is_converted_only_once(org: Any, acme_lead: Lead) -> None:
    lead_convert(actor=org.actor("rep_north"), lead=acme_lead)
    with pytest.raises(Conflict) as exc:
        lead_convert(actor=org.actor("rep_north"), lead=acme_lead)
    assert exc.value.status == 409
    assert Customer.objects.count() == 2
    with pytest.raises(Conflict):
        lead_update(actor=org.actor("rep_north"), lead=acme_lead, data={"name": "x"})


def test_convert_without_a_company_makes_the_person_the_customer(org: Any) -> None:
    lead = lead_create(
        actor=org.actor("rep_north"),
        data={"name": "李娜", "phone": "13900001111", "industry": "零售", "description": "老客户介绍"},
    )
    result = lead_convert(actor=org.actor("rep_north"), lead=lead)
    assert result.customer == result.contact
    assert result.organisation_created is False
    person = result.contact
    assert (person.kind, person.industry, person.notes, person.organisation) == (
        CustomerKind.PERSON, "零售", "老客户介绍", None,
    )  # fmt: skip
    assert Customer.objects.count() == 1


def test_convert_can_skip_creating_the_organisation(org: Any, acme_lead: Lead) -> None:
    result = lead_convert(actor=org.actor("rep_north"), lead=acme_lead, create_organisation=False)
    assert Customer.objects.count() == 1
    assert (result.contact.kind, result.contact.company_name, result.contact.organisation) == (
        CustomerKind.PERSON, "星河科技", None,
    )  # fmt: skip


def test_convert_links_an_existing_visible_organisation(org: Any, acme_lead: Lead) -> None:
    existing = CustomerFactory(owner=org.rep_north, kind=CustomerKind.ORGANISATION, name="星河科技集团")
    interaction = InteractionFactory(customer=None, lead=acme_lead)
    result = lead_convert(actor=org.actor("rep_north"), lead=acme_lead, organisation_id=existing.pk)
    assert result.organisation_created is False
    assert result.customer == existing
    assert (result.contact.organisation, result.contact.company_name) == (existing, "星河科技集团")
    interaction.refresh_from_db()
    assert interaction.customer_id == existing.pk
    assert Customer.objects.count() == 2


def test_convert_refuses_an_organisation_the_actor_cannot_see(org: Any, acme_lead: Lead) -> None:
    hidden = CustomerFactory(owner=org.rep_south, kind=CustomerKind.ORGANISATION, name="南方公司")
    with pytest.raises(ValidationFailed) as exc:
        lead_convert(actor=org.actor("rep_north"), lead=acme_lead, organisation_id=hidden.pk)
    assert _fields(exc) == {"organisation_id"}
    acme_lead.refresh_from_db()
    assert acme_lead.status == LeadStatus.NEW
    assert Customer.objects.count() == 1  # only the hidden one: nothing half-written


def test_convert_cannot_both_link_and_create(org: Any, acme_lead: Lead) -> None:
    existing = CustomerFactory(owner=org.rep_north, kind=CustomerKind.ORGANISATION)
    with pytest.raises(ValidationFailed) as exc:
        lead_convert(
            actor=org.actor("rep_north"), lead=acme_lead, organisation_id=existing.pk, create_organisation=True
        )
    assert _fields(exc) == {"organisation_id"}


def test_creating_an_organisation_needs_a_company_name(org: Any) -> None:
    lead = LeadFactory(owner=org.rep_north, phone="+8613812345678")
    with pytest.raises(ValidationFailed) as exc:
        lead_convert(actor=org.actor("rep_north"), lead=lead, create_organisation=True)
    assert _fields(exc) == {"company_name"}


def test_convert_needs_the_convert_permission(org: Any) -> None:
    lead = LeadFactory(owner=org.rep_north, company_name="A")
    with pytest.raises(PermissionDenied):
        lead_convert(actor=org.actor("marketer"), lead=lead)


def test_manager_converts_a_reps_lead_and_the_rep_keeps_the_customer(org: Any) -> None:
    lead = LeadFactory(owner=org.rep_north_sub, team=org.north_sub, name="赵敏", company_name="赵氏贸易")
    result = lead_convert(actor=org.actor("manager_north"), lead=lead)
    assert result.customer.owner == org.rep_north_sub
    assert result.contact.owner == org.rep_north_sub


def test_convert_with_a_stale_version_is_refused(org: Any, acme_lead: Lead) -> None:
    with pytest.raises(StaleVersion):
        lead_convert(actor=org.actor("rep_north"), lead=acme_lead, expected_version=7)
    assert Customer.objects.count() == 0


def test_open_tasks_of_other_statuses_stay_on_the_lead(org: Any, acme_lead: Lead) -> None:
    cancelled = TaskFactory(lead=acme_lead, assignee=org.rep_north, status=TaskStatus.CANCELLED)
    lead_convert(actor=org.actor("rep_north"), lead=acme_lead)
    assert Task.objects.get(pk=cancelled.pk).customer_id is None


def test_convert_sets_the_customers_next_follow_up_from_the_moved_tasks(org: Any, acme_lead: Lead) -> None:
    soon = timezone.now() + dt.timedelta(days=1)
    TaskFactory(lead=acme_lead, assignee=org.rep_north, due_at=soon + dt.timedelta(days=3))
    TaskFactory(lead=acme_lead, assignee=org.rep_north, due_at=soon)
    TaskFactory(lead=acme_lead, assignee=org.rep_north, due_at=soon - dt.timedelta(days=5), status=TaskStatus.DONE)
    result = lead_convert(actor=org.actor("rep_north"), lead=acme_lead)
    account = Customer.objects.get(pk=result.customer.pk)
    assert account.next_follow_up_at == soon
    assert Customer.objects.get(pk=result.contact.pk).next_follow_up_at is None


def test_convert_without_open_tasks_leaves_no_next_follow_up(org: Any, acme_lead: Lead) -> None:
    result = lead_convert(actor=org.actor("rep_north"), lead=acme_lead)
    assert Customer.objects.get(pk=result.customer.pk).next_follow_up_at is None


def test_deleting_a_lead_removes_its_tags_notes_and_files(org: Any, django_capture_on_commit_callbacks: Any) -> None:
    from django.core.files.storage import default_storage
    from django.core.files.uploadedfile import SimpleUploadedFile

    from guanxi.platform.annotations import services as annotations
    from guanxi.platform.annotations.models import Attachment, Note, Tag, TaggedItem

    tag = Tag.objects.create(name="Hot", color=Tag.Color.ORANGE)
    doomed = LeadFactory(owner=org.rep_north, company_name="A")
    kept = LeadFactory(owner=org.rep_north, company_name="B")
    files = {}
    for lead in (doomed, kept):
        actor = org.actor("rep_north")
        annotations.tags_assign(actor=actor, target="customers.lead", object_ids=[lead.pk], tag_id=tag.pk)
        annotations.note_add(actor=actor, target="customers.lead", object_id=lead.pk, body="met at the fair")
        upload = SimpleUploadedFile("card.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")
        attachment = annotations.attachment_add(
            actor=actor, target="customers.lead", object_id=lead.pk, uploaded_file=upload
        )
        files[lead.pk] = attachment.file.name

    with django_capture_on_commit_callbacks(execute=True):
        lead_delete(actor=org.actor("manager_north"), lead=doomed)

    expected = [("customers.lead", kept.pk)]
    assert list(TaggedItem.objects.values_list("target", "object_id")) == expected
    assert list(Note.objects.values_list("target", "object_id")) == expected
    assert list(Attachment.objects.values_list("target", "object_id")) == expected
    assert not default_storage.exists(files[doomed.pk])
    assert default_storage.exists(files[kept.pk])
