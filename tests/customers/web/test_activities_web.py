"""Timeline and task pages: htmx partials, the inline log form, task forms, my tasks page, the workbench."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from guanxi.customers.models import Interaction, Task
from guanxi.customers.models.choices import LeadStatus, TaskStatus
from guanxi.customers.selectors.activities import day_bounds
from tests.factories import CustomerFactory, InteractionFactory, LeadFactory, TaskFactory, UserFactory, actor

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def client_for(org: Any) -> Any:
    def make(username: str) -> Client:
        client = Client()
        client.force_login(getattr(org, username))
        return client

    return make


def _local(when: dt.datetime) -> str:
    return timezone.localtime(when).strftime("%Y-%m-%dT%H:%M")


# Timeline ----------------------------------------------------------------------------------------


def test_the_timeline_partial_lists_interactions_newest_first_with_the_log_form(org, client_for):
    customer = CustomerFactory(owner=org.rep_north)
    InteractionFactory(customer=customer, subject="Older call", occurred_at=timezone.now() - dt.timedelta(days=2))
    InteractionFactory(customer=customer, subject="Newer visit", occurred_at=timezone.now() - dt.timedelta(days=1))
    response = client_for("rep_north").get(reverse("customers:customer_timeline", args=[customer.pk]), **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert f'id="timeline-customer-{customer.pk}"' in html
    assert f'hx-post="{reverse("customers:interaction_log", args=[customer.pk])}"' in html
    assert html.index("Newer visit") < html.index("Older call")


def test_an_empty_timeline_says_so(org, client_for):
    customer = CustomerFactory(owner=org.rep_north)
    html = (
        client_for("rep_north").get(reverse("customers:customer_timeline", args=[customer.pk]), **HTMX).content.decode()
    )
    assert "No interactions yet. Log the first one above." in html


def test_older_interactions_load_by_cursor(org, client_for):
    customer = CustomerFactory(owner=org.rep_north)
    base = timezone.now() - dt.timedelta(days=1)
    for n in range(35):
        InteractionFactory(customer=customer, subject=f"item-{n:02d}", occurred_at=base - dt.timedelta(minutes=n))
    client = client_for("rep_north")
    url = reverse("customers:customer_timeline", args=[customer.pk])
    first = client.get(url, **HTMX).content.decode()
    assert "item-29" in first and "item-30" not in first
    cursor = first.split("?before=", 1)[1].split('"', 1)[0]
    more = client.get(f"{url}?before={cursor}", **HTMX).content.decode()
    assert "timeline-card" not in more
    assert [f"item-{n}" in more for n in (30, 34)] == [True, True] and "item-29" not in more


def test_logging_inline_refreshes_the_timeline_and_plans_the_follow_up(org, client_for):
    customer = CustomerFactory(owner=org.rep_north)
    due = timezone.now() + dt.timedelta(days=1)
    response = client_for("rep_north").post(
        reverse("customers:interaction_log", args=[customer.pk]),
        {
            "channel": "call",
            "direction": "outbound",
            "subject": "Called about renewal",
            "outcome": "reached",
            "duration_minutes": "5",
            "follow_up_at": _local(due),
            "follow_up_title": "Send the renewal offer",
        },
        **HTMX,
    )
    assert response.status_code == 200, response.content.decode()
    assert response["HX-Trigger"] == "tasksChanged"
    assert "Called about renewal" in response.content.decode()
    interaction = Interaction.objects.get()
    assert (interaction.duration_seconds, interaction.user) == (300, org.rep_north)
    task = Task.objects.get()
    assert task.title == "Send the renewal offer"
    customer.refresh_from_db()
    assert customer.last_contact_at == interaction.occurred_at
    assert customer.next_follow_up_at == task.due_at == timezone.localtime(due).replace(second=0, microsecond=0)


def test_bad_inline_input_answers_422_with_the_errors_next_to_the_fields(org, client_for):
    customer = CustomerFactory(owner=org.rep_north)
    response = client_for("rep_north").post(
        reverse("customers:interaction_log", args=[customer.pk]),
        {
            "channel": "pigeon",
            "occurred_at": _local(timezone.now() + dt.timedelta(hours=2)),
            "follow_up_at": _local(timezone.now() - dt.timedelta(hours=2)),
            "subject": "Kept",
        },
        **HTMX,
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "<html" not in html and f'id="timeline-customer-{customer.pk}"' in html
    assert '<div class="error" id="id_log_occurred_at_error">An interaction cannot be in the future.</div>' in html
    assert '<div class="error" id="id_log_channel_error">Choose a value from the list.</div>' in html
    assert '<div class="error" id="id_log_follow_up_at_error">Choose a time in the future.</div>' in html
    assert 'value="Kept"' in html
    assert Interaction.objects.count() == 0 and Task.objects.count() == 0


def test_logging_without_htmx_redirects_to_the_customer(org, client_for):
    customer = CustomerFactory(owner=org.rep_north)
    response = client_for("rep_north").post(
        reverse("customers:interaction_log", args=[customer.pk]), {"channel": "sms"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:customer_detail", args=[customer.pk])


def test_a_leads_timeline_and_inline_log(org, client_for):
    lead = LeadFactory(owner=org.rep_north)
    client = client_for("rep_north")
    html = client.get(reverse("customers:lead_timeline", args=[lead.pk]), **HTMX).content.decode()
    assert f'hx-post="{reverse("customers:lead_interaction_log", args=[lead.pk])}"' in html
    response = client.post(
        reverse("customers:lead_interaction_log", args=[lead.pk]), {"channel": "email", "subject": "Intro"}, **HTMX
    )
    assert response.status_code == 200
    assert "Intro" in response.content.decode()
    assert Interaction.objects.get().lead == lead


def test_another_teams_rep_gets_404_on_every_timeline_and_task_url(org, client_for):
    customer = CustomerFactory(owner=org.rep_north)
    lead = LeadFactory(owner=org.rep_north)
    task = TaskFactory(assignee=org.rep_north, customer=customer)
    client = client_for("rep_south")
    for method, name, args in (
        ("get", "customers:customer_timeline", [customer.pk]),
        ("post", "customers:interaction_log", [customer.pk]),
        ("get", "customers:customer_tasks", [customer.pk]),
        ("post", "customers:customer_tasks", [customer.pk]),
        ("get", "customers:lead_timeline", [lead.pk]),
        ("post", "customers:lead_interaction_log", [lead.pk]),
        ("get", "customers:task_edit", [task.pk]),
        ("post", "customers:task_edit", [task.pk]),
        ("post", "customers:task_complete", [task.pk]),
        ("post", "customers:task_reopen", [task.pk]),
        ("post", "customers:task_cancel", [task.pk]),
    ):
        data = {"channel": "call", "title": "x"} if method == "post" else {}
        response = getattr(client, method)(reverse(name, args=args), data, **HTMX)
        assert response.status_code == 404, (name, response.status_code)
    assert client.get(f"{reverse('customers:task_create')}?customer_id={customer.pk}").status_code == 404
    assert Interaction.objects.count() == 0
    task.refresh_from_db()
    assert (task.status, task.title, Task.objects.count()) == (TaskStatus.OPEN, task.title, 1)


# A customer's open tasks -------------------------------------------------------------------------


def test_the_customer_tasks_partial_lists_open_tasks_and_adds_one(org, client_for):
    customer = CustomerFactory(owner=org.rep_north)
    TaskFactory(assignee=org.rep_north, customer=customer, title="Open one", due_at=timezone.now())
    TaskFactory(assignee=org.rep_north, customer=customer, title="Finished", status=TaskStatus.DONE)
    client = client_for("rep_north")
    url = reverse("customers:customer_tasks", args=[customer.pk])
    html = client.get(url, **HTMX).content.decode()
    assert "Open one" in html and "Finished" not in html
    assert reverse("customers:task_complete", args=[Task.objects.get(title="Open one").pk]) in html
    due = timezone.now() + dt.timedelta(days=3)
    response = client.post(url, {"title": "Bring the samples", "due_at": _local(due)}, **HTMX)
    assert response.status_code == 200
    assert "Bring the samples" in response.content.decode()
    customer.refresh_from_db()
    assert customer.next_follow_up_at == Task.objects.get(title="Open one").due_at
    bad = client.post(url, {"title": "", "due_at": "tomorrow"}, **HTMX)
    assert bad.status_code == 422
    assert "Enter a title." in bad.content.decode()
    assert "Enter a date and time such as 2025-03-01 09:30." in bad.content.decode()


def test_completing_from_the_customer_panel_returns_the_panel(org, client_for):
    customer = CustomerFactory(owner=org.rep_north)
    task = TaskFactory(assignee=org.rep_north, customer=customer, title="Call", due_at=timezone.now())
    response = client_for("rep_north").post(
        reverse("customers:task_complete", args=[task.pk]), {"shown_in": "customer"}, **HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="customer-tasks-{customer.pk}"' in html and "No open tasks for this customer." in html
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE


# My tasks page and forms -------------------------------------------------------------------------


def test_my_tasks_page_tabs(org, client_for):
    now = timezone.now()
    TaskFactory(assignee=org.rep_north, title="Overdue one", due_at=now - dt.timedelta(days=1))
    TaskFactory(assignee=org.rep_north, title="Next week", due_at=now + dt.timedelta(days=7))
    TaskFactory(assignee=org.rep_north, title="Done one", status=TaskStatus.DONE, completed_at=now)
    TaskFactory(assignee=org.rep_south, title="Not mine", due_at=now)
    client = client_for("rep_north")
    url = reverse("customers:task_list")

    def page(view: str) -> str:
        response = client.get(url, {"view": view})
        assert response.status_code == 200
        return response.content.decode()

    assert "Overdue one" in page("open") and "Next week" in page("open") and "Not mine" not in page("open")
    assert "Overdue one" in page("overdue") and "Next week" not in page("overdue")
    assert "Next week" in page("upcoming") and "Overdue one" not in page("upcoming")
    assert "Done one" in page("done") and "Overdue one" not in page("done")
    assert "Nothing is due today." in page("today")


def test_my_tasks_page_runs_the_same_queries_for_10_and_50_rows(org, client_for):
    client = client_for("rep_north")
    url = reverse("customers:task_list")

    def make(count: int) -> None:
        for n in range(count):
            customer = CustomerFactory(owner=org.rep_north)
            lead = LeadFactory(owner=org.rep_north)
            TaskFactory(
                assignee=org.rep_north,
                customer=customer if n % 2 else None,
                lead=None if n % 2 else lead,
                due_at=timezone.now() + dt.timedelta(hours=n),
            )

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200
        return len(captured)

    make(10)
    client.get(url)
    with_10 = queries()
    make(40)
    assert client.get(url).content.decode().count('id="task-row-') == 50
    assert queries() == with_10


def test_completing_a_row_with_htmx_returns_the_row(org, client_for):
    task = TaskFactory(assignee=org.rep_north, title="Row task")
    response = client_for("rep_north").post(
        reverse("customers:task_complete", args=[task.pk]), {"shown_in": "row"}, **HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith(f'<tr id="task-row-{task.pk}"') and "Reopen" in html
    assert response["HX-Trigger"] == "tasksChanged"
    task.refresh_from_db()
    assert (task.status, task.completed_by) == (TaskStatus.DONE, org.rep_north)


def test_completing_without_htmx_redirects(org, client_for):
    task = TaskFactory(assignee=org.rep_north)
    response = client_for("rep_north").post(reverse("customers:task_complete", args=[task.pk]), {"result": "Done"})
    assert response.status_code == 302 and response["Location"] == reverse("customers:task_list")
    task.refresh_from_db()
    assert task.result == "Done"
    page = client_for("rep_north").get(reverse("customers:task_edit", args=[task.pk])).content.decode()
    assert f"by {org.rep_north}." in page and "Reopen" in page


def test_creating_a_task_from_the_form(org, client_for):
    customer = CustomerFactory(owner=org.rep_north, name="李娜")
    client = client_for("rep_north")
    url = reverse("customers:task_create")
    form = client.get(url, {"customer_id": customer.pk})
    assert form.status_code == 200 and "李娜" in form.content.decode()
    due = timezone.now() + dt.timedelta(days=1)
    fields = {"customer": customer.pk, "title": "Visit", "kind": "visit", "priority": "high"}
    fields["assignee"] = org.rep_north.pk
    bad = client.post(url, {**fields, "due_at": _local(due), "remind_at": _local(due + dt.timedelta(hours=1))})
    assert bad.status_code == 422
    assert (
        '<div class="error" id="id_remind_at_error">Set the reminder at or before the due time.</div>'
        in bad.content.decode()
    )
    good = client.post(
        url,
        {
            **fields,
            "due_at": _local(due),
            "remind_at": _local(due - dt.timedelta(hours=1)),
            "next": reverse("customers:customer_detail", args=[customer.pk]),
        },
    )
    assert good.status_code == 302 and good["Location"] == reverse("customers:customer_detail", args=[customer.pk])
    task = Task.objects.get()
    assert (task.customer, task.kind, task.priority, task.assignee) == (customer, "visit", "high", org.rep_north)


def test_assigning_to_someone_who_cannot_see_the_customer_is_shown_on_the_assignee_field(org, client_for):
    customer = CustomerFactory(owner=org.rep_north)
    response = client_for("manager_north").post(
        reverse("customers:task_create"), {"customer": customer.pk, "title": "Visit", "assignee": org.rep_south.pk}
    )
    assert response.status_code == 422
    assert 'id="id_assignee_error">This user cannot see the customer or lead of this task.' in response.content.decode()


def test_editing_a_task_checks_the_version(org, client_for):
    task = TaskFactory(assignee=org.rep_north, title="Old title")
    client = client_for("rep_north")
    url = reverse("customers:task_edit", args=[task.pk])
    assert 'value="Old title"' in client.get(url).content.decode()
    data = {"version": 1, "title": "New title", "kind": "call", "priority": "normal", "assignee": org.rep_north.pk}
    assert client.post(url, data).status_code == 302
    stale = client.post(url, {**data, "title": "Lost"})
    assert stale.status_code == 412
    assert "The record was changed by someone else." in stale.content.decode()
    task.refresh_from_db()
    assert (task.title, task.version) == ("New title", 2)


# Workbench ---------------------------------------------------------------------------------------


def test_the_workbench_shows_my_tasks_follow_ups_recent_customers_and_new_leads(org, client_for):
    now = timezone.now()
    _start, end = day_bounds(actor=actor(org.rep_north), now=now)
    TaskFactory(assignee=org.rep_north, title="Overdue task", due_at=now - dt.timedelta(hours=30))
    TaskFactory(assignee=org.rep_north, title="Later today task", due_at=now + (end - now) / 2)
    TaskFactory(assignee=org.rep_north, title="Next week task", due_at=now + dt.timedelta(days=7))
    TaskFactory(assignee=org.rep_south, title="Someone else's task", due_at=now - dt.timedelta(hours=1))
    CustomerFactory(owner=org.rep_north, name="Follow-up customer", next_follow_up_at=now + dt.timedelta(days=2))
    CustomerFactory(owner=org.rep_south, name="South customer")
    LeadFactory(owner=org.rep_north, name="Fresh lead")
    LeadFactory(owner=org.rep_north, name="Contacted lead", status=LeadStatus.CONTACTED)
    LeadFactory(owner=org.rep_south, name="South lead")
    response = client_for("rep_north").get(reverse("ui:workbench"))
    assert response.status_code == 200
    html = response.content.decode()
    for shown in ("Overdue task", "Later today task", "Follow-up customer", "Fresh lead"):
        assert shown in html, shown
    for hidden in ("Next week task", "Someone else's task", "South customer", "Contacted lead", "South lead"):
        assert hidden not in html, hidden
    recent = html.split('id="workbench-recent-customers"', 1)[1]
    assert "Follow-up customer" in recent


def test_an_empty_workbench_shows_empty_states(org, client_for):
    html = client_for("rep_north").get(reverse("ui:workbench")).content.decode()
    assert "Nothing due today and nothing overdue." in html
    assert "No follow-ups planned." in html
    assert "No new leads waiting for you." in html
    assert "No customers yet." in html


def test_workbench_panels_are_hidden_without_the_permission(org):
    client = Client()
    client.force_login(UserFactory(team=org.north, role=None))
    html = client.get(reverse("ui:workbench")).content.decode()
    assert "workbench-panel" not in html
