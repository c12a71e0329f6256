"""The scale-data generator writes valid, consistent rows straight into either database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db.models import Max, Min
from stdnum.cn import ric, uscc

from guanxi.customers.models import ContactPoint, Customer, Interaction, Task
from guanxi.customers.models.choices import ContactKind, CustomerKind, TaskStatus
from guanxi.customers.scale_data import USER_COUNT, BenchSummary, bench_data_generate, bench_data_truncate, bench_users
from guanxi.customers.selectors.customers import customer_list
from guanxi.customers.services.customers import customer_create
from guanxi.platform.annotations.models import TaggedItem
from guanxi.platform.core.cn_ids import mask_id_number, pii_decrypt, pii_hash
from guanxi.platform.core.phones import normalise_phone, reversed_digits
from guanxi.platform.core.pinyin import full_pinyin, pinyin_initials
from guanxi.platform.identity.models import Team
from guanxi.platform.search.services import global_search
from tests.factories import CustomerFactory, InteractionFactory, actor

COUNT = 300


@pytest.fixture
def generated(db: None) -> BenchSummary:
    return bench_data_generate(customers=COUNT, seed=7, batch=120)


def test_rows_per_table_are_in_the_expected_ranges(generated: BenchSummary) -> None:
    assert generated.rows["customers"] == Customer.objects.count() == COUNT
    # 12% of each chunk (batches of 120, 120 and 60)
    assert Customer.objects.filter(kind=CustomerKind.ORGANISATION).count() == 14 + 14 + 7
    assert 3 * COUNT <= ContactPoint.objects.count() == generated.rows["contact_points"] <= 7 * COUNT
    assert 4.5 * COUNT <= generated.rows["contact_points"] <= 5.5 * COUNT
    assert 8 * COUNT <= Interaction.objects.count() == generated.rows["interactions"] <= 12 * COUNT
    assert 1 * COUNT <= Task.objects.count() == generated.rows["tasks"] <= 2 * COUNT
    assert 0.2 * COUNT <= TaggedItem.objects.count() == generated.rows["tagged_items"] <= 0.6 * COUNT
    assert len(bench_users()) == USER_COUNT
    assert Team.objects.filter(name__startswith="Bench ").count() == 20
    owners = set(Customer.objects.values_list("owner_id", flat=True))
    assert len(owners) > 100 and owners <= {u.pk for u in bench_users()}
    assert not Customer.objects.exclude(team_id__in=Team.objects.filter(name__startswith="Bench ")).exists()
    assert Customer.objects.filter(name__regex=r"^[A-Za-z]").exists()  # Latin names too
    assert set(Customer.objects.values_list("version", flat=True)) == {1}


def test_every_phone_is_valid_e164_and_its_search_key_is_the_reversed_digits(generated: BenchSummary) -> None:
    phones = list(ContactPoint.objects.filter(kind=ContactKind.PHONE).values_list("value", "search_key"))
    assert len(phones) > COUNT
    for value, search_key in phones:
        assert normalise_phone(value).stored == value
        assert search_key == reversed_digits(value)
    values = [value for value, _key in phones]
    assert len(set(values)) == len(values)


def test_every_id_number_and_uscc_validates(generated: BenchSummary) -> None:
    people = Customer.objects.exclude(id_number_encrypted="")
    assert 0.15 * COUNT <= people.count() <= 0.45 * COUNT
    for customer in people:
        number = pii_decrypt(customer.id_number_encrypted)
        assert ric.is_valid(number)
        assert str(ric.get_birth_date(number)) == str(customer.birthday)
        assert customer.id_number_hash == pii_hash(number)
        assert customer.id_number_masked == mask_id_number(number)
    codes = Customer.objects.filter(kind=CustomerKind.ORGANISATION).values_list("uscc", flat=True)
    assert all(uscc.is_valid(code) for code in codes)


def test_pinyin_columns_match_the_apps_pinyin_of_the_name(generated: BenchSummary) -> None:
    for name, pinyin, initials in Customer.objects.values_list("name", "name_pinyin", "name_initials"):
        assert pinyin == full_pinyin(name)
        assert initials == pinyin_initials(name)


def test_other_contact_points_are_normalised_like_the_service_does(generated: BenchSummary) -> None:
    from guanxi.customers.services.contact_points import clean_contact_value

    for point in ContactPoint.objects.exclude(kind=ContactKind.PHONE):
        raw = point.address if point.kind == ContactKind.ADDRESS else point.value
        assert clean_contact_value(point.kind, raw) == (point.value, point.search_key, point.address)


def test_last_contact_and_next_follow_up_agree_with_interactions_and_open_tasks(generated: BenchSummary) -> None:
    latest = Interaction.objects.values("customer_id").annotate(m=Max("occurred_at"))
    last = dict(latest.values_list("customer_id", "m"))
    due = dict(
        Task.objects.filter(status=TaskStatus.OPEN)
        .values("customer_id")
        .annotate(m=Min("due_at"))
        .values_list("customer_id", "m")
    )
    for pk, last_contact_at, next_follow_up_at in Customer.objects.values_list(
        "pk", "last_contact_at", "next_follow_up_at"
    ):
        assert last_contact_at == last.get(pk)
        assert next_follow_up_at == due.get(pk)


def test_the_app_keeps_inserting_after_generation(generated: BenchSummary) -> None:
    rep = bench_users()[-1]
    highest = Customer.objects.aggregate(m=Max("id"))["m"]
    customer = customer_create(
        actor=actor(rep), data={"name": "新客户", "contact_points": [{"kind": "phone", "value": "13912345678"}]}
    )
    assert customer.pk > highest
    assert customer.contact_points.get().pk > generated.rows["contact_points"]


def test_a_bench_user_sees_rows_and_search_finds_by_initials_and_phone_suffix(generated: BenchSummary) -> None:
    rep = bench_users()[-1]
    rows = list(customer_list(actor=actor(rep))[:20])
    assert rows and all(row.owner_id == rep.pk for row in rows)
    target = rows[0]
    phone = target.contact_points.filter(kind=ContactKind.PHONE).first()
    assert phone is not None
    by_initials = global_search(actor=actor(rep), text=target.name_initials, limit_per_kind=50)
    assert target.pk in [hit.id for hit in by_initials["customer"]]
    by_suffix = global_search(actor=actor(rep), text=phone.value[-6:])
    assert [hit.id for hit in by_suffix["customer"]] == [target.pk]


def test_truncate_removes_only_bench_rows(generated: BenchSummary, tmp_path: Path) -> None:
    other = CustomerFactory(name="非压测客户")
    InteractionFactory(customer=other)
    call_command(
        "guanxi_bench_data",
        "--customers=20",
        "--truncate",
        "--no-interactions",
        f"--results-dir={tmp_path}",
        stdout=open("/dev/null", "w"),  # noqa: SIM115
    )
    assert Customer.objects.exclude(pk=other.pk).count() == 20
    assert not Interaction.objects.exclude(customer=other).exists()
    assert Interaction.objects.filter(customer=other).count() == 1
    assert ContactPoint.objects.filter(customer__owner__username__startswith="bench_user_").count() >= 60
    figures = json.loads((tmp_path / f"generate-{generated.vendor}-20.json").read_text())
    assert figures["rows"]["customers"] == 20 and figures["rows"]["interactions"] == 0
    bench_data_truncate()
    assert list(Customer.objects.all()) == [other]
