"""Reading the timeline, task lists and the workbench lists: order, pages, views by day, visibility."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone

from guanxi.customers.models.choices import LeadStatus, TaskStatus
from guanxi.customers.selectors.activities import (
    TaskFilters,
    customer_timeline,
    day_bounds,
    interaction_get,
    interaction_list,
    lead_timeline,
    my_follow_ups,
    my_tasks_overdue,
    my_tasks_today,
    new_leads_assigned_to_me,
    recently_changed_customers,
    task_get,
    task_list,
)
from guanxi.platform.core.errors import NotFound, ValidationFailed
from tests.factories import CustomerFactory, InteractionFactory, LeadFactory, TaskFactory

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
# A fixed "now": 2025-03-10 10:00 in Shanghai.
NOW = dt.datetime(2025, 3, 10, 10, 0, tzinfo=SHANGHAI)


def _at(hour: int, day: int = 10) -> dt.datetime:
    return dt.datetime(2025, 3, day, hour, 0, tzinfo=SHANGHAI)


def test_a_timeline_is_newest_first_and_pages_by_cursor_without_gaps(org):
    customer = CustomerFactory(owner=org.rep_north)
    same_time = timezone.now() - dt.timedelta(days=1)
    made = [InteractionFactory(customer=customer, occurred_at=same_time - dt.timedelta(hours=n % 3)) for n in range(7)]
    InteractionFactory(customer=CustomerFactory(owner=org.rep_north))  # another customer's
    actor = org.actor("rep_north")
    seen = []
    cursor = None
    while True:
        page = customer_timeline(actor=actor, customer=customer, before=cursor, limit=3)
        seen.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    expected = sorted(made, key=lambda i: (i.occurred_at, i.pk), reverse=True)
    assert [i.pk for i in seen] == [i.pk for i in expected]


def test_another_teams_rep_sees_nothing_of_a_timeline(org):
    customer = CustomerFactory(owner=org.rep_north)
    interaction = InteractionFactory(customer=customer)
    lead = LeadFactory(owner=org.rep_north)
    InteractionFactory(customer=None, lead=lead)
    south = org.actor("rep_south")
    assert customer_timeline(actor=south, customer=customer).items == []
    assert lead_timeline(actor=south, lead=lead).items == []
    assert list(interaction_list(actor=south)) == []
    with pytest.raises(NotFound):
        interaction_get(actor=south, interaction_id=interaction.pk)
    # The manager of the team sees it.
    assert interaction_get(actor=org.actor("manager_north"), interaction_id=interaction.pk) == interaction
    assert [i.lead_id for i in lead_timeline(actor=org.actor("rep_north"), lead=lead).items] == [lead.pk]


def test_tasks_are_visible_to_their_assignee_and_to_those_who_see_the_customer(org):
    north_customer = CustomerFactory(owner=org.rep_north)
    mine = TaskFactory(assignee=org.rep_north, customer=north_customer)
    asked_of_south = TaskFactory(assignee=org.rep_south, customer=north_customer)
    private_south = TaskFactory(assignee=org.rep_south)
    assert set(task_list(actor=org.actor("rep_north"))) == {mine, asked_of_south}
    assert set(task_list(actor=org.actor("rep_south"))) == {asked_of_south, private_south}
    assert set(task_list(actor=org.actor("rep_north"), filters=TaskFilters(mine=True))) == {mine}
    with pytest.raises(NotFound):
        task_get(actor=org.actor("rep_south"), task_id=mine.pk)
    with pytest.raises(NotFound):
        task_get(actor=org.actor("rep_north"), task_id=private_south.pk)


def test_task_views_split_the_day_in_the_users_time_zone(org):
    rep = org.rep_north
    overdue_yesterday = TaskFactory(assignee=rep, title="yesterday", due_at=_at(9, day=9))
    overdue_today = TaskFactory(assignee=rep, title="this morning", due_at=_at(8))
    later_today = TaskFactory(assignee=rep, title="this evening", due_at=_at(18))
    tomorrow = TaskFactory(assignee=rep, title="tomorrow", due_at=_at(9, day=11))
    no_due = TaskFactory(assignee=rep, title="someday")
    done = TaskFactory(
        assignee=rep, title="done", due_at=_at(7), status=TaskStatus.DONE, completed_at=NOW - dt.timedelta(hours=1)
    )
    cancelled = TaskFactory(assignee=rep, title="cancelled", due_at=_at(7), status=TaskStatus.CANCELLED)
    actor = org.actor("rep_north")

    def titles(view: str) -> list[str]:
        return [t.title for t in task_list(actor=actor, filters=TaskFilters(view=view, mine=True), now=NOW)]

    assert titles("today") == [overdue_today.title, later_today.title]
    assert titles("overdue") == [overdue_yesterday.title, overdue_today.title]
    assert set(titles("upcoming")) == {tomorrow.title, no_due.title}
    assert titles("done") == [done.title]
    assert titles("cancelled") == [cancelled.title]
    assert len(titles("open")) == 5 and len(titles("all")) == 7
    assert [t.title for t in my_tasks_overdue(actor=actor, now=NOW)] == ["yesterday", "this morning"]
    assert [t.title for t in my_tasks_today(actor=actor, now=NOW)] == ["this evening"]
    # For a user in New York, 10:00 in Shanghai is 22:00 the evening before: their day ends at 12:00 Shanghai
    # time, so the task due at 18:00 is tomorrow and the one due yesterday at 9:00 was before their day began.
    rep.time_zone = "America/New_York"
    rep.save()
    start, end = day_bounds(actor=actor, now=NOW)
    assert start.astimezone(SHANGHAI) == dt.datetime(2025, 3, 9, 13, 0, tzinfo=SHANGHAI)
    assert end.astimezone(SHANGHAI) == dt.datetime(2025, 3, 10, 12, 0, tzinfo=SHANGHAI)
    assert titles("today") == [overdue_today.title]


def test_task_filters_from_query_parameters(org):
    customer = CustomerFactory(owner=org.rep_north)
    TaskFactory(assignee=org.rep_north, customer=customer, due_at=_at(12))
    TaskFactory(assignee=org.rep_north, due_at=_at(12, day=20))
    filters = TaskFilters.from_params({"customer_id": str(customer.pk), "due_from": "2025-03-10T00:00", "mine": "true"})
    assert filters.mine is True and filters.customer_id == customer.pk
    assert filters.due_from == timezone.make_aware(dt.datetime(2025, 3, 10))
    assert task_list(actor=org.actor("rep_north"), filters=filters).count() == 1
    with pytest.raises(ValidationFailed) as caught:
        TaskFilters.from_params({"view": "soon", "status": "x", "assignee_id": "me", "due_to": "later", "overdue": "?"})
    assert sorted(caught.value.fields) == ["assignee_id", "due_to", "overdue", "status", "view"]


def test_my_follow_ups_are_my_customers_with_a_planned_follow_up_soonest_first(org):
    later = CustomerFactory(owner=org.rep_north, name="later", next_follow_up_at=timezone.now() + dt.timedelta(days=3))
    sooner = CustomerFactory(
        owner=org.rep_north, name="sooner", next_follow_up_at=timezone.now() + dt.timedelta(days=1)
    )
    CustomerFactory(owner=org.rep_north, name="nothing planned")
    CustomerFactory(owner=org.rep_north_sub, next_follow_up_at=timezone.now())
    assert my_follow_ups(actor=org.actor("rep_north")) == [sooner, later]
    assert my_follow_ups(actor=org.actor("manager_north")) == []


def test_recently_changed_customers_are_the_visible_ones_newest_first(org):
    first = CustomerFactory(owner=org.rep_north)
    second = CustomerFactory(owner=org.rep_north_sub)
    CustomerFactory(owner=org.rep_south)
    first.save()  # touched last
    assert recently_changed_customers(actor=org.actor("rep_north")) == [first]
    assert recently_changed_customers(actor=org.actor("manager_north")) == [first, second]
    assert recently_changed_customers(actor=org.actor("manager_north"), limit=1) == [first]


def test_new_leads_assigned_to_me_are_new_and_mine(org):
    older = LeadFactory(owner=org.rep_north)
    newer = LeadFactory(owner=org.rep_north)
    LeadFactory(owner=org.rep_north, status=LeadStatus.CONTACTED)
    LeadFactory(owner=org.rep_north_sub)
    assert new_leads_assigned_to_me(actor=org.actor("rep_north")) == [newer, older]
    assert new_leads_assigned_to_me(actor=org.actor("manager_north")) == []
