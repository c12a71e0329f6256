"""The customer list selector: every filter narrows to exactly the right rows, visibility by scope, and
keyset pagination that walks every sort (nullable ones included) without duplicates or gaps."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from guanxi.customers.models import Customer
from guanxi.customers.models.choices import CustomerKind, LifecycleStage, Source
from guanxi.customers.selectors.customers import SORTS, CustomerFilters, customer_list
from guanxi.platform.annotations.models import Tag, TaggedItem
from guanxi.platform.core.errors import ValidationFailed
from guanxi.platform.core.pagination import keyset_paginate
from guanxi.platform.customfields.models import CustomFieldDefinition, FieldType
from tests.factories import ContactPointFactory, CustomerFactory, PoolFactory

NULLABLE = {"last_contact_at", "next_follow_up_at"}


def ids(actor: Any, **params: Any) -> set[int]:
    filters = CustomerFilters.from_params({k: str(v) for k, v in params.items()})
    return set(customer_list(actor=actor, filters=filters).values_list("pk", flat=True))


def at(day: str) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(dt.date.fromisoformat(day), dt.time(12)))


@pytest.fixture
def admin(org: Any) -> Any:
    return org.actor("admin")


def test_rep_sees_only_own_customers(org: Any) -> None:
    mine = CustomerFactory(owner=org.rep_north)
    CustomerFactory(owner=org.rep_south)
    CustomerFactory(owner=org.rep_north_sub)
    assert ids(org.actor("rep_north")) == {mine.pk}


def test_manager_sees_team_and_sub_team(org: Any) -> None:
    north = CustomerFactory(owner=org.rep_north)
    sub = CustomerFactory(owner=org.rep_north_sub)
    CustomerFactory(owner=org.rep_south)
    assert ids(org.actor("manager_north")) == {north.pk, sub.pk}


def test_owner_me_and_none(org: Any, admin: Any) -> None:
    mine = CustomerFactory(owner=org.admin)
    CustomerFactory(owner=org.rep_north)
    pooled = CustomerFactory(owner=None, team=None, pool=PoolFactory())
    assert ids(admin, owner="me") == {mine.pk}
    assert ids(admin, owner="none") == {pooled.pk}


def test_owner_id_and_team_with_sub_teams(org: Any, admin: Any) -> None:
    north = CustomerFactory(owner=org.rep_north)
    sub = CustomerFactory(owner=org.rep_north_sub)
    south = CustomerFactory(owner=org.rep_south)
    assert ids(admin, owner_id=org.rep_north.pk) == {north.pk}
    assert ids(admin, team_id=org.north.pk) == {north.pk, sub.pk}
    assert ids(admin, team_id=org.south.pk) == {south.pk}
    assert ids(admin, team_id=999_999) == set()


def test_stage_source_rating_and_kind(org: Any, admin: Any) -> None:
    active = CustomerFactory(owner=org.rep_north, lifecycle_stage=LifecycleStage.ACTIVE, rating=4)
    referral = CustomerFactory(owner=org.rep_north, source=Source.REFERRAL, rating=2)
    org_customer = CustomerFactory(owner=org.rep_north, kind=CustomerKind.ORGANISATION, rating=5)
    assert ids(admin, stage="active") == {active.pk}
    assert ids(admin, source="referral") == {referral.pk}
    assert ids(admin, rating_min=4) == {active.pk, org_customer.pk}
    assert ids(admin, kind="organisation") == {org_customer.pk}
    assert ids(admin, kind="person") == {active.pk, referral.pk}


def test_tag(org: Any, admin: Any) -> None:
    vip = Tag.objects.create(name="VIP", color="red")
    tagged = CustomerFactory(owner=org.rep_north)
    CustomerFactory(owner=org.rep_north)
    TaggedItem.objects.create(tag=vip, target="customers.customer", object_id=tagged.pk)
    TaggedItem.objects.create(tag=vip, target="customers.lead", object_id=tagged.pk + 1000)
    assert ids(admin, tag_id=vip.pk) == {tagged.pk}


def test_created_and_last_contact_ranges(org: Any, admin: Any) -> None:
    early = CustomerFactory(owner=org.rep_north)
    late = CustomerFactory(owner=org.rep_north)
    never = CustomerFactory(owner=org.rep_north)
    Customer.objects.filter(pk=early.pk).update(created_at=at("2024-01-10"), last_contact_at=at("2024-02-01"))
    Customer.objects.filter(pk=late.pk).update(created_at=at("2024-03-10"), last_contact_at=at("2024-04-01"))
    Customer.objects.filter(pk=never.pk).update(created_at=at("2024-03-11"))
    assert ids(admin, created_from="2024-03-01") == {late.pk, never.pk}
    assert ids(admin, created_to="2024-01-10") == {early.pk}
    assert ids(admin, created_from="2024-03-10", created_to="2024-03-10") == {late.pk}
    assert ids(admin, last_contact_from="2024-03-01") == {late.pk}
    assert ids(admin, last_contact_to="2024-02-01") == {early.pk}


def test_in_pool(org: Any, admin: Any) -> None:
    owned = CustomerFactory(owner=org.rep_north)
    pooled = CustomerFactory(owner=None, team=None, pool=PoolFactory())
    assert ids(admin, in_pool="true") == {pooled.pk}
    assert ids(admin, in_pool="false") == {owned.pk}


def test_search_text(org: Any, admin: Any) -> None:
    zhang = CustomerFactory(owner=org.rep_north, name="张伟", name_pinyin="zhangwei", name_initials="zw")
    CustomerFactory(owner=org.rep_north, name="李娜", name_pinyin="lina", name_initials="ln")
    phone = CustomerFactory(owner=org.rep_north, name="王芳")
    ContactPointFactory(customer=phone, value="+8613912345678", search_key="8765432193168")
    assert ids(admin, q="zw") == {zhang.pk}
    assert ids(admin, q="张") == {zhang.pk}
    assert ids(admin, q="5678") == {phone.pk}


def test_custom_fields(org: Any, admin: Any) -> None:
    CustomFieldDefinition.objects.create(
        target="customers.customer", key="segment", label_zh="细分", label_en="Segment", field_type=FieldType.CHOICE,
        choices=[{"value": "retail", "label_zh": "零售", "label_en": "Retail"},
                 {"value": "b2b", "label_zh": "企业", "label_en": "B2B"}],
    )  # fmt: skip
    CustomFieldDefinition.objects.create(
        target="customers.customer", key="vip", label_zh="贵宾", label_en="VIP", field_type=FieldType.BOOLEAN
    )
    retail = CustomerFactory(owner=org.rep_north, custom_fields={"segment": "retail", "vip": True})
    b2b = CustomerFactory(owner=org.rep_north, custom_fields={"segment": "b2b", "vip": False})
    CustomerFactory(owner=org.rep_north)
    assert ids(admin, **{"cf.segment": "retail"}) == {retail.pk}
    assert ids(admin, **{"cf.vip": "false"}) == {b2b.pk}
    with pytest.raises(ValidationFailed) as exc:
        ids(admin, **{"cf.segment": "nope"})
    assert list(exc.value.fields) == ["cf.segment"]


def test_bad_parameters_name_the_field(org: Any) -> None:
    for name, value in (("created_from", "yesterday"), ("stage", "bogus"), ("owner", "them"), ("rating_min", "x")):
        with pytest.raises(ValidationFailed) as exc:
            CustomerFilters.from_params({name: value})
        assert list(exc.value.fields) == [name]


# --- keyset pagination -------------------------------------------------------------------------------


def expected_order(sort: str, customers: list[Customer]) -> list[int]:
    """The order the database must produce: the field with NULLs last either way, ties by id in the same
    direction. (Names are ASCII lower-case, which sort the same in Python and in every collation.)"""
    descending = sort.startswith("-")
    field = sort.lstrip("-")

    def value(c: Customer) -> Any:
        return c.pk if field == "id" else getattr(c, field)

    present = sorted((c for c in customers if value(c) is not None), key=lambda c: (value(c), c.pk), reverse=descending)
    missing = sorted((c for c in customers if value(c) is None), key=lambda c: c.pk, reverse=descending)
    return [c.pk for c in present + missing]


@pytest.fixture
def many(org: Any) -> list[Customer]:
    """23 customers with ties in every sort field and NULLs in the nullable ones."""
    base = at("2024-05-01")
    customers = []
    for i in range(23):
        customer = CustomerFactory(owner=org.rep_north, name=f"n{i % 7:02d}", rating=i % 4)
        Customer.objects.filter(pk=customer.pk).update(
            created_at=base + dt.timedelta(hours=i % 5),
            last_contact_at=None if i % 3 == 0 else base + dt.timedelta(days=i % 4),
            next_follow_up_at=None if i % 4 == 0 else base + dt.timedelta(days=i % 3),
        )
        customers.append(customer)
    return list(Customer.objects.filter(pk__in=[c.pk for c in customers]))


@pytest.mark.parametrize("sort", list(SORTS))
def test_keyset_pages_walk_every_sort_without_duplicates(org: Any, many: list[Customer], sort: str) -> None:
    actor = org.actor("rep_north")
    order = SORTS[sort]
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        page = keyset_paginate(
            customer_list(actor=actor, sort=sort), sort=order, cursor=cursor, page_size=4,
            nullable=order.lstrip("-") in NULLABLE,
        )  # fmt: skip
        seen.extend(c.pk for c in page.items)
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    expected = expected_order(order, many)
    assert len(seen) == len(set(seen)) == 23
    assert seen == expected
    assert pages == 6


def test_a_cursor_of_another_sort_is_refused(org: Any, many: list[Customer]) -> None:
    actor = org.actor("rep_north")
    page = keyset_paginate(customer_list(actor=actor, sort="name"), sort="name", cursor=None, page_size=5)
    assert page.next_cursor
    with pytest.raises(ValidationFailed) as exc:
        keyset_paginate(customer_list(actor=actor, sort="-id"), sort="-id", cursor=page.next_cursor, page_size=5)
    assert list(exc.value.fields) == ["cursor"]
