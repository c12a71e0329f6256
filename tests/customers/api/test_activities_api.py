"""The /interactions and /tasks API: create, read, change, delete, lists with cursors, visibility, versions."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from guanxi.customers.models import Interaction, Task
from guanxi.customers.models.choices import TaskStatus
from tests.factories import CustomerFactory, InteractionFactory, LeadFactory, TaskFactory

SCOPES = ["activities:read", "activities:write", "customers:read", "leads:read"]


@pytest.fixture
def as_user(api_as: Any) -> Any:
    return lambda username: api_as(username, scopes=SCOPES)


def _iso(when: dt.datetime) -> str:
    return when.isoformat()


def _error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    return response.json()["error"]


# Interactions ------------------------------------------------------------------------------------


def test_logging_an_interaction_with_a_follow_up(org, as_user):
    customer = CustomerFactory(owner=org.rep_north)
    when = timezone.now() - dt.timedelta(hours=1)
    due = timezone.now() + dt.timedelta(days=1)
    response = as_user("rep_north").post(
        "/interactions",
        {
            "customer_id": customer.pk,
            "channel": "visit",
            "direction": "outbound",
            "occurred_at": _iso(when),
            "subject": "Site visit",
            "outcome": "interested",
            "duration_seconds": 1800,
            "next_follow_up": {"due_at": _iso(due), "title": "Send samples"},
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["customer_id"] == customer.pk and body["lead_id"] is None
    assert (body["channel"], body["subject"], body["duration_seconds"], body["version"]) == (
        "visit",
        "Site visit",
        1800,
        1,
    )
    assert body["user_id"] == org.rep_north.pk and body["user_name"] == str(org.rep_north)
    customer.refresh_from_db()
    assert customer.last_contact_at == when
    assert Task.objects.get().title == "Send samples"
    assert customer.next_follow_up_at == due


def test_bad_interactions_answer_422_naming_the_fields(org, as_user):
    customer = CustomerFactory(owner=org.rep_north)
    client = as_user("rep_north")
    error = _error(client.post("/interactions", {"customer_id": customer.pk, "channel": "fax"}), 422)
    assert list(error["fields"]) == ["channel"]
    future = timezone.now() + dt.timedelta(hours=1)
    error = _error(
        client.post("/interactions", {"customer_id": customer.pk, "channel": "call", "occurred_at": _iso(future)}), 422
    )
    assert error["fields"] == {"occurred_at": ["An interaction cannot be in the future."]}
    error = _error(client.post("/interactions", {"channel": "call"}), 422)
    assert list(error["fields"]) == ["customer_id"]
    error = _error(client.post("/interactions", {"customer_id": customer.pk, "channel": "call", "extra": 1}), 422)
    assert list(error["fields"]) == ["extra"]
    assert Interaction.objects.count() == 0


def test_another_reps_records_are_never_shown_or_changed(org, as_user):
    customer = CustomerFactory(owner=org.rep_north)
    interaction = InteractionFactory(customer=customer)
    south = as_user("rep_south")
    hidden = _error(south.post("/interactions", {"customer_id": customer.pk, "channel": "call"}), 422)
    missing = _error(south.post("/interactions", {"customer_id": 999999, "channel": "call"}), 422)
    assert hidden == missing
    lead_error = _error(
        south.post("/interactions", {"lead_id": LeadFactory(owner=org.rep_north).pk, "channel": "call"}), 422
    )
    assert list(lead_error["fields"]) == ["lead_id"]
    path = f"/interactions/{interaction.pk}"
    assert _error(south.get(path), 404)["code"] == "not_found"
    _error(south.patch(path, {"subject": "x", "version": 1}), 404)
    _error(south.delete(path), 404)
    assert south.get("/interactions", {"customer_id": customer.pk}).json() == {"items": [], "next_cursor": None}
    assert Interaction.objects.get().subject == interaction.subject


def test_listing_interactions_newest_first_with_a_cursor(org, as_user):
    customer = CustomerFactory(owner=org.rep_north)
    base = timezone.now() - dt.timedelta(days=1)
    made = [InteractionFactory(customer=customer, occurred_at=base - dt.timedelta(minutes=n)) for n in range(5)]
    InteractionFactory(customer=CustomerFactory(owner=org.rep_north))
    client = as_user("rep_north")
    first = client.get("/interactions", {"customer_id": customer.pk, "limit": 3}).json()
    second = client.get(
        "/interactions", {"customer_id": customer.pk, "limit": 3, "cursor": first["next_cursor"]}
    ).json()
    assert [i["id"] for i in first["items"] + second["items"]] == [i.pk for i in made]
    assert second["next_cursor"] is None
    assert len(client.get("/interactions").json()["items"]) == 6


def test_changing_an_interaction_needs_the_version(org, as_user):
    customer = CustomerFactory(owner=org.rep_north)
    interaction = InteractionFactory(customer=customer, user=org.rep_north, occurred_at=timezone.now())
    client = as_user("rep_north")
    path = f"/interactions/{interaction.pk}"
    assert _error(client.patch(path, {"subject": "x"}), 428)["code"] == "precondition_required"
    response = client.patch(path, {"subject": "Updated", "outcome": "reached"}, HTTP_IF_MATCH='"1"')
    assert response.status_code == 200, response.content
    assert (response.json()["subject"], response.json()["version"]) == ("Updated", 2)
    assert _error(client.patch(path, {"subject": "Lost"}, HTTP_IF_MATCH='"1"'), 412)["code"] == "stale_version"
    assert _error(client.patch(path, {"channel": None, "version": 2}), 422)["fields"] == {
        "channel": ["Choose a value from the list."]
    }


def test_deleting_an_interaction_recomputes_last_contact(org, as_user):
    customer = CustomerFactory(owner=org.rep_north)
    client = as_user("rep_north")
    older = client.post(
        "/interactions",
        {"customer_id": customer.pk, "channel": "call", "occurred_at": _iso(timezone.now() - dt.timedelta(days=2))},
    ).json()
    latest = client.post("/interactions", {"customer_id": customer.pk, "channel": "call"}).json()
    assert client.delete(f"/interactions/{latest['id']}").status_code == 204
    customer.refresh_from_db()
    assert customer.last_contact_at == Interaction.objects.get(pk=older["id"]).occurred_at


# Tasks -------------------------------------------------------------------------------------------


def test_task_lifecycle_through_the_api(org, as_user):
    customer = CustomerFactory(owner=org.rep_north)
    client = as_user("rep_north")
    due = (timezone.now() + dt.timedelta(days=1)).replace(microsecond=0)
    response = client.post(
        "/tasks",
        {
            "title": "Quote",
            "customer_id": customer.pk,
            "due_at": _iso(due),
            "remind_at": _iso(due - dt.timedelta(hours=1)),
        },
    )
    assert response.status_code == 201, response.content
    task = response.json()
    assert (task["assignee_id"], task["customer_name"], task["status"], task["is_overdue"]) == (
        org.rep_north.pk, customer.name, "open", False,
    )  # fmt: skip
    path = f"/tasks/{task['id']}"
    read = client.get(path)
    assert (read.json()["title"], read["ETag"]) == ("Quote", '"1"')
    assert _error(client.patch(path, {"title": "No version"}), 428)["code"] == "precondition_required"
    changed = client.patch(path, {"title": "Quote v2", "priority": "high"}, HTTP_IF_MATCH="1").json()
    assert (changed["title"], changed["priority"], changed["version"]) == ("Quote v2", "high", 2)
    assert _error(client.patch(path, {"title": "late"}, HTTP_IF_MATCH="1"), 412)["code"] == "stale_version"
    done = client.post(f"{path}/complete", {"result": "Sent"}).json()
    assert (done["status"], done["result"], done["completed_by_id"]) == ("done", "Sent", org.rep_north.pk)
    customer.refresh_from_db()
    assert customer.next_follow_up_at is None
    reopened = client.client.post(f"/api/v1{path}/reopen", content_type="application/json")  # no body at all
    assert reopened.status_code == 200, reopened.content
    assert reopened.json()["status"] == "open"
    assert _error(client.post(f"{path}/complete", {"version": 1}), 412)["code"] == "stale_version"
    assert client.delete(path).status_code == 204
    assert Task.objects.get().status == TaskStatus.CANCELLED


def test_bad_tasks_answer_422(org, as_user):
    client = as_user("rep_north")
    due = timezone.now() + dt.timedelta(days=1)
    error = _error(
        client.post("/tasks", {"title": "a", "due_at": _iso(due), "remind_at": _iso(due + dt.timedelta(hours=1))}), 422
    )
    assert list(error["fields"]) == ["remind_at"]
    error = _error(
        client.post(
            "/tasks",
            {"title": "a", "customer_id": CustomerFactory(owner=org.rep_north).pk, "assignee_id": org.rep_south.pk},
        ),
        422,
    )
    assert list(error["fields"]) == ["assignee_id"]
    assert list(_error(client.post("/tasks", {"title": ""}), 422)["fields"]) == ["title"]
    assert list(_error(client.get("/tasks", {"view": "someday"}), 422)["fields"]) == ["view"]
    assert list(_error(client.get("/tasks", {"sort": "title"}), 422)["fields"]) == ["sort"]


def test_another_reps_task_answers_404_everywhere(org, as_user):
    task = TaskFactory(assignee=org.rep_north, customer=CustomerFactory(owner=org.rep_north))
    south = as_user("rep_south")
    path = f"/tasks/{task.pk}"
    for response in (
        south.get(path),
        south.patch(path, {"title": "x", "version": 1}),
        south.delete(path),
        south.post(f"{path}/complete", {}),
        south.post(f"{path}/reopen", {}),
    ):
        assert _error(response, 404)["code"] == "not_found"
    assert south.get("/tasks").json()["items"] == []
    task.refresh_from_db()
    assert (task.status, task.version) == ("open", 1)


def test_task_list_filters(org, as_user):
    now = timezone.now()
    customer = CustomerFactory(owner=org.rep_north)
    overdue = TaskFactory(assignee=org.rep_north, customer=customer, due_at=now - dt.timedelta(days=2))
    later = TaskFactory(assignee=org.rep_north, due_at=now + dt.timedelta(days=5))
    colleague = TaskFactory(assignee=org.rep_north_sub, customer=CustomerFactory(owner=org.rep_north_sub), due_at=now)
    done = TaskFactory(assignee=org.rep_north, status=TaskStatus.DONE, completed_at=now)
    manager = as_user("manager_north")
    rep = as_user("rep_north")

    def ids(client: Any, **params: Any) -> list[int]:
        response = client.get("/tasks", params)
        assert response.status_code == 200, response.content
        return [t["id"] for t in response.json()["items"]]

    assert ids(rep, overdue="true") == [overdue.pk]
    assert ids(rep, customer_id=customer.pk) == [overdue.pk]
    assert ids(rep, view="done") == [done.pk]
    assert ids(rep, status="open") == [overdue.pk, later.pk]
    assert ids(manager, assignee_id=org.rep_north_sub.pk) == [colleague.pk]
    assert ids(manager, mine="true") == []
    assert set(ids(manager)) == {overdue.pk, colleague.pk}  # the manager sees the team's customers' tasks
    assert rep.get("/tasks", {"overdue": "true"}).json()["items"][0]["is_overdue"] is True


def test_task_list_pages_with_a_cursor_soonest_first(org, as_user):
    now = timezone.now()
    made = [TaskFactory(assignee=org.rep_north, due_at=now + dt.timedelta(hours=n)) for n in range(5)]
    no_due = TaskFactory(assignee=org.rep_north)
    client = as_user("rep_north")
    first = client.get("/tasks", {"limit": 4}).json()
    second = client.get("/tasks", {"limit": 4, "cursor": first["next_cursor"]}).json()
    assert [t["id"] for t in first["items"] + second["items"]] == [t.pk for t in made] + [no_due.pk]


@pytest.mark.parametrize("path", ["/tasks", "/interactions"])
def test_list_endpoints_run_the_same_queries_for_10_and_50_rows(org, as_user, path):
    client = as_user("rep_north")

    def make(count: int) -> None:
        for _ in range(count):
            customer = CustomerFactory(owner=org.rep_north)
            TaskFactory(assignee=org.rep_north, customer=customer, due_at=timezone.now())
            InteractionFactory(customer=customer)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path, {"limit": 100})
        assert response.status_code == 200
        return len(captured)

    client.get(path)  # the token's first use of the day records its last-used time
    make(10)
    with_10 = queries()
    make(40)
    assert len(client.get(path, {"limit": 100}).json()["items"]) == 50
    assert queries() == with_10


def test_the_routes_are_in_the_openapi_schema(org, as_user):
    schema = as_user("rep_north").get("/openapi.json").json()
    paths = ["/interactions", "/interactions/{interaction_id}", "/tasks", "/tasks/{task_id}"]
    paths += ["/tasks/{task_id}/complete", "/tasks/{task_id}/reopen"]
    for path in paths:
        assert f"/api/v1{path}" in schema["paths"]
    assert "412" in schema["paths"]["/api/v1/tasks/{task_id}"]["patch"]["responses"]
