"""Logging, editing and deleting interactions: validation, visibility, last contact and planned follow-ups."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from guanxi.customers.models import Customer, Interaction, Task
from guanxi.customers.models.choices import LeadStatus, TaskKind, TaskStatus
from guanxi.customers.services.interactions import interaction_delete, interaction_log, interaction_update
from guanxi.platform.core.errors import NotFound, PermissionDenied, StaleVersion, ValidationFailed
from tests.factories import CustomerFactory, LeadFactory, PoolFactory


def _refresh(customer: Customer) -> Customer:
    customer.refresh_from_db()
    return customer


def test_logging_a_call_records_it_and_sets_last_contact(org):
    customer = CustomerFactory(owner=org.rep_north)
    when = timezone.now() - dt.timedelta(hours=2)
    interaction = interaction_log(
        actor=org.actor("rep_north"),
        customer=customer,
        data={
            "channel": "call",
            "direction": "inbound",
            "occurred_at": when.isoformat(),
            "subject": "  询价  ",
            "body": "Asked for a quote.\r\nCall back Friday.",
            "outcome": "interested",
            "duration_seconds": 300,
        },
    )
    interaction.refresh_from_db()
    assert (interaction.channel, interaction.direction, interaction.outcome) == ("call", "inbound", "interested")
    assert interaction.subject == "询价"
    assert interaction.body == "Asked for a quote.\nCall back Friday."
    assert interaction.duration_seconds == 300
    assert interaction.occurred_at == when
    assert interaction.user == org.rep_north
    assert interaction.customer_id == customer.pk and interaction.lead_id is None
    assert _refresh(customer).last_contact_at == when
    assert interaction.history.get().history_user == org.rep_north


def test_occurred_at_defaults_to_now_and_older_interactions_do_not_move_last_contact_back(org):
    customer = CustomerFactory(owner=org.rep_north)
    before = timezone.now()
    latest = interaction_log(actor=org.actor("rep_north"), customer=customer, data={"channel": "wechat"})
    assert before <= latest.occurred_at <= timezone.now()
    interaction_log(
        actor=org.actor("rep_north"),
        customer=customer,
        data={"channel": "visit", "occurred_at": timezone.now() - dt.timedelta(days=3)},
    )
    assert _refresh(customer).last_contact_at == latest.occurred_at


def test_an_interaction_may_not_be_more_than_five_minutes_in_the_future(org):
    customer = CustomerFactory(owner=org.rep_north)
    with pytest.raises(ValidationFailed) as caught:
        interaction_log(
            actor=org.actor("rep_north"),
            customer=customer,
            data={"channel": "call", "occurred_at": timezone.now() + dt.timedelta(minutes=6)},
        )
    assert list(caught.value.fields) == ["occurred_at"]
    # A slightly fast clock on the rep's phone is tolerated.
    interaction_log(
        actor=org.actor("rep_north"),
        customer=customer,
        data={"channel": "call", "occurred_at": timezone.now() + dt.timedelta(minutes=4)},
    )
    assert Interaction.objects.count() == 1


def test_every_bad_field_is_reported_at_once(org):
    customer = CustomerFactory(owner=org.rep_north)
    with pytest.raises(ValidationFailed) as caught:
        interaction_log(
            actor=org.actor("rep_north"),
            customer=customer,
            data={
                "channel": "fax",
                "direction": "sideways",
                "outcome": "maybe",
                "duration_seconds": -1,
                "subject": "x" * 201,
                "occurred_at": "yesterday",
                "mood": "good",
            },
        )
    assert sorted(caught.value.fields) == [
        "channel", "direction", "duration_seconds", "mood", "occurred_at", "outcome", "subject",
    ]  # fmt: skip
    assert Interaction.objects.count() == 0


def test_channel_is_required(org):
    with pytest.raises(ValidationFailed) as caught:
        interaction_log(actor=org.actor("rep_north"), customer=CustomerFactory(owner=org.rep_north), data={})
    assert caught.value.fields == {"channel": ["Choose a value from the list."]}


def test_planning_the_next_follow_up_creates_a_task_for_the_customer_owner(org):
    customer = CustomerFactory(owner=org.rep_north)
    due = timezone.now() + dt.timedelta(days=2)
    interaction = interaction_log(
        actor=org.actor("manager_north"),
        customer=customer,
        data={"channel": "meeting", "next_follow_up": {"due_at": due, "title": "Send the contract"}},
    )
    task = Task.objects.get()
    assert (task.title, task.kind, task.status) == ("Send the contract", TaskKind.FOLLOW_UP, TaskStatus.OPEN)
    assert task.assignee == org.rep_north
    assert task.created_by == org.manager_north
    assert task.customer == customer and task.due_at == due
    customer = _refresh(customer)
    assert customer.next_follow_up_at == due
    assert customer.last_contact_at == interaction.occurred_at


def test_the_follow_up_title_defaults_to_the_customer_name(org):
    customer = CustomerFactory(owner=org.rep_north, name="张伟")
    interaction_log(
        actor=org.actor("rep_north"),
        customer=customer,
        data={"channel": "call", "next_follow_up": {"due_at": timezone.now() + dt.timedelta(hours=3)}},
    )
    assert Task.objects.get().title == "Follow up with 张伟"


def test_a_pool_customer_follow_up_goes_to_the_actor(org):
    customer = CustomerFactory(owner=None, team=None, pool=PoolFactory())
    interaction_log(
        actor=org.actor("rep_north"),
        customer=customer,
        data={"channel": "call", "next_follow_up": {"due_at": timezone.now() + dt.timedelta(hours=3)}},
    )
    assert Task.objects.get().assignee == org.rep_north


def test_a_bad_follow_up_writes_nothing(org):
    customer = CustomerFactory(owner=org.rep_north)
    with pytest.raises(ValidationFailed) as caught:
        interaction_log(
            actor=org.actor("rep_north"),
            customer=customer,
            data={
                "channel": "call",
                "next_follow_up": {"due_at": timezone.now() - dt.timedelta(hours=1), "title": "y" * 201},
            },
        )
    assert sorted(caught.value.fields) == ["next_follow_up.due_at", "next_follow_up.title"]
    assert Interaction.objects.count() == 0 and Task.objects.count() == 0
    assert _refresh(customer).last_contact_at is None


def test_logging_on_a_lead_plans_the_follow_up_for_the_lead_owner(org):
    lead = LeadFactory(owner=org.rep_north)
    due = timezone.now() + dt.timedelta(days=1)
    interaction = interaction_log(
        actor=org.actor("rep_north"),
        lead=lead,
        data={"channel": "email", "next_follow_up": {"due_at": due.isoformat(), "title": "Call"}},
    )
    assert interaction.lead == lead and interaction.customer is None
    task = Task.objects.get()
    assert (task.lead, task.customer, task.assignee) == (lead, None, org.rep_north)


def test_another_teams_rep_cannot_log_on_a_customer_or_lead_they_cannot_see(org):
    with pytest.raises(NotFound):
        interaction_log(
            actor=org.actor("rep_south"), customer=CustomerFactory(owner=org.rep_north), data={"channel": "call"}
        )
    with pytest.raises(NotFound):
        interaction_log(actor=org.actor("rep_south"), lead=LeadFactory(owner=org.rep_north), data={"channel": "call"})
    assert Interaction.objects.count() == 0


def test_roles_without_the_add_permission_cannot_log(org):
    with pytest.raises(PermissionDenied):
        interaction_log(
            actor=org.actor("analyst"), customer=CustomerFactory(owner=org.rep_north), data={"channel": "call"}
        )


def test_an_interaction_is_about_exactly_one_customer_or_lead(org):
    with pytest.raises(ValidationFailed) as caught:
        interaction_log(actor=org.actor("rep_north"), data={"channel": "call"})
    assert list(caught.value.fields) == ["customer_id"]
    with pytest.raises(ValidationFailed):
        interaction_log(
            actor=org.actor("rep_north"),
            customer=CustomerFactory(owner=org.rep_north),
            lead=LeadFactory(owner=org.rep_north),
            data={"channel": "call"},
        )


def _logged(org, customer, hours_ago: int, who: str = "rep_north") -> Interaction:
    return interaction_log(
        actor=org.actor(who),
        customer=customer,
        data={"channel": "call", "occurred_at": timezone.now() - dt.timedelta(hours=hours_ago)},
    )


def test_the_author_edits_an_interaction_and_last_contact_follows_its_time(org):
    customer = CustomerFactory(owner=org.rep_north)
    older = _logged(org, customer, hours_ago=10)
    latest = _logged(org, customer, hours_ago=1)
    new_time = timezone.now() - dt.timedelta(hours=20)
    updated = interaction_update(
        actor=org.actor("rep_north"),
        interaction=latest,
        data={"occurred_at": new_time, "outcome": "reached", "subject": "Moved"},
        expected_version=1,
    )
    assert (updated.version, updated.outcome, updated.subject) == (2, "reached", "Moved")
    assert _refresh(customer).last_contact_at == older.occurred_at


def test_a_stale_edit_is_refused(org):
    interaction = _logged(org, CustomerFactory(owner=org.rep_north), hours_ago=1)
    interaction_update(actor=org.actor("rep_north"), interaction=interaction, data={"subject": "a"}, expected_version=1)
    with pytest.raises(StaleVersion):
        interaction_update(
            actor=org.actor("rep_north"), interaction=interaction, data={"subject": "b"}, expected_version=1
        )


def test_editors_of_the_customer_may_change_a_colleagues_interaction_others_may_not(org):
    customer = CustomerFactory(owner=org.rep_north_sub)
    interaction = _logged(org, customer, hours_ago=1, who="rep_north_sub")
    interaction_update(actor=org.actor("manager_north"), interaction=interaction, data={"subject": "Checked"})
    with pytest.raises(PermissionDenied):
        interaction_update(actor=org.actor("analyst"), interaction=interaction, data={"subject": "No"})
    with pytest.raises(NotFound):
        interaction_update(actor=org.actor("rep_south"), interaction=interaction, data={"subject": "No"})
    with pytest.raises(NotFound):
        interaction_delete(actor=org.actor("rep_south"), interaction=interaction)
    interaction.refresh_from_db()
    assert interaction.subject == "Checked"


def test_follow_up_planning_is_not_an_editable_field(org):
    interaction = _logged(org, CustomerFactory(owner=org.rep_north), hours_ago=1)
    with pytest.raises(ValidationFailed) as caught:
        interaction_update(actor=org.actor("rep_north"), interaction=interaction, data={"next_follow_up": {}})
    assert caught.value.fields == {"next_follow_up": ["Unknown field."]}


def test_deleting_recomputes_last_contact(org):
    customer = CustomerFactory(owner=org.rep_north)
    older = _logged(org, customer, hours_ago=5)
    latest = _logged(org, customer, hours_ago=1)
    interaction_delete(actor=org.actor("rep_north"), interaction=latest)
    assert _refresh(customer).last_contact_at == older.occurred_at
    interaction_delete(actor=org.actor("rep_north"), interaction=older)
    assert _refresh(customer).last_contact_at is None
    assert Interaction.objects.count() == 0


# A lead's status follows the first contact --------------------------------------------------


def test_logging_on_a_new_lead_marks_it_contacted(org):
    lead = LeadFactory(owner=org.rep_north, status=LeadStatus.NEW)
    interaction_log(actor=org.actor("rep_north"), lead=lead, data={"channel": "call"})
    lead.refresh_from_db()
    assert (lead.status, lead.version) == (LeadStatus.CONTACTED, 2)
    assert lead.history.first().history_user == org.rep_north


@pytest.mark.parametrize("status", [LeadStatus.CONTACTED, LeadStatus.QUALIFIED, LeadStatus.UNQUALIFIED])
def test_logging_on_a_lead_past_new_keeps_its_status(org, status):
    lead = LeadFactory(owner=org.rep_north, status=status)
    interaction_log(actor=org.actor("rep_north"), lead=lead, data={"channel": "email"})
    lead.refresh_from_db()
    assert (lead.status, lead.version) == (status, 1)


def test_logging_is_enough_to_mark_the_lead_contacted_without_the_right_to_edit_leads(org):
    # The service agent may log interactions and own leads but not edit leads.
    lead = LeadFactory(owner=org.service, status=LeadStatus.NEW)
    interaction_log(actor=org.actor("service"), lead=lead, data={"channel": "wechat"})
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONTACTED


def test_logging_on_a_customer_changes_no_lead(org):
    lead = LeadFactory(owner=org.rep_north, status=LeadStatus.NEW)
    interaction_log(
        actor=org.actor("rep_north"), customer=CustomerFactory(owner=org.rep_north), data={"channel": "call"}
    )
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW
