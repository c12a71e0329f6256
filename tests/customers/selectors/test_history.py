"""customer_history: the customer's and its contact points' changes on one list, readable, masked for roles
without personal data, in a fixed number of queries."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanxi.customers.models import Customer
from guanxi.customers.selectors.history import customer_history
from guanxi.customers.services.contact_points import contact_point_add, contact_point_remove, contact_point_update
from guanxi.customers.services.customers import customer_create, customer_update


def _changes(entry: Any) -> dict[str, tuple[Any, Any]]:
    return {c.field: (c.before, c.after) for c in entry.changes}


def test_history_lists_customer_and_contact_point_changes_newest_first(org: Any) -> None:
    rep = org.actor("rep_north")
    customer = customer_create(
        actor=rep, data={"name": "张伟", "contact_points": [{"kind": "phone", "value": "13812345678"}]}
    )
    customer = customer_update(actor=rep, customer=customer, data={"lifecycle_stage": "active", "rating": 3})
    email = contact_point_add(actor=rep, customer=customer, data={"kind": "email", "value": "Zhang@Example.com"})
    contact_point_update(actor=rep, customer=customer, point_id=email.pk, data={"value": "wei@example.com"})
    phone = customer.contact_points.get(kind="phone")
    contact_point_remove(actor=rep, customer=customer, point_id=phone.pk)

    entries = customer_history(actor=rep, customer=customer)

    assert [(e.kind, e.record_label) for e in entries] == [
        ("-", "Phone: +8613812345678"),
        ("~", "Email: wei@example.com"),
        ("+", "Email: zhang@example.com"),
        ("~", "张伟"),
        ("+", "Phone: +8613812345678"),
        ("+", "张伟"),
    ]
    assert _changes(entries[1])["value"] == ("zhang@example.com", "wei@example.com")
    assert _changes(entries[3]) == {"lifecycle_stage": ("Prospect", "Active"), "rating": (0, 3)}
    assert {e.user_name for e in entries} == {str(org.rep_north)}
    assert [e.when for e in entries] == sorted((e.when for e in entries), reverse=True)


def test_owner_and_team_changes_show_names(org: Any) -> None:
    manager = org.actor("manager_north")
    customer = customer_create(actor=manager, data={"name": "李娜", "owner_id": org.rep_north.pk})
    customer_update(actor=manager, customer=customer, data={"owner_id": org.rep_north_sub.pk})

    entry = customer_history(actor=manager, customer=customer)[0]

    changes = _changes(entry)
    assert changes["owner"] == (str(org.rep_north), str(org.rep_north_sub))
    assert changes["team"] == (org.north.name, org.north_sub.name)


def test_contact_values_are_masked_for_roles_without_personal_data(org: Any) -> None:
    rep = org.actor("rep_north")
    customer = customer_create(
        actor=rep, data={"name": "王芳", "contact_points": [{"kind": "phone", "value": "13812345678"}]}
    )
    phone = customer.contact_points.get()
    contact_point_update(actor=rep, customer=customer, point_id=phone.pk, data={"value": "13900001234"})

    entries = customer_history(actor=org.actor("analyst"), customer=Customer.objects.get(pk=customer.pk))

    assert entries[0].record_label == "Phone: +86139****1234"
    assert _changes(entries[0])["value"] == ("+86138****5678", "+86139****1234")
    text = repr(entries)
    assert "13812345678" not in text and "13900001234" not in text


def test_query_count_does_not_grow_with_history(org: Any) -> None:
    rep = org.actor("rep_north")

    def customer_with_changes(n: int) -> Customer:
        customer = customer_create(
            actor=rep, data={"name": "赵敏", "contact_points": [{"kind": "phone", "value": "13812345678"}]}
        )
        for i in range(n):
            customer = customer_update(actor=rep, customer=customer, data={"rating": i % 6, "notes": f"note {i}"})
            contact_point_add(actor=rep, customer=customer, data={"kind": "email", "value": f"a{i}@example.com"})
            customer.refresh_from_db()
        return customer

    small, large = customer_with_changes(2), customer_with_changes(12)
    counts = []
    for customer in (small, large):
        with CaptureQueriesContext(connection) as ctx:
            entries = customer_history(actor=rep, customer=customer)
        counts.append(len(ctx.captured_queries))
        assert entries
    assert counts[0] == counts[1]
