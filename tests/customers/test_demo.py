"""`guanxi demo`: a small demo company loads, every identifier in it is valid, and it refuses to load twice."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from stdnum.cn import ric, uscc

from guanxi.customers.demo import DEMO_PASSWORD, DEMO_USERS
from guanxi.customers.models import ContactPoint, Customer, Interaction, Lead, Pool, PoolEvent, Task
from guanxi.customers.models.choices import ContactKind, CustomerKind, LeadStatus, TaskStatus
from guanxi.customers.selectors.customers import customer_list
from guanxi.customers.selectors.search import customer_search_hits
from guanxi.platform.annotations.models import TaggedItem
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.cn_ids import normalise_ric, normalise_uscc, pii_decrypt, pii_hash
from guanxi.platform.core.emails import normalise_email
from guanxi.platform.core.phones import normalise_phone, reversed_digits
from guanxi.platform.core.pinyin import full_pinyin, pinyin_initials
from guanxi.platform.identity.models import Team, User
from guanxi.platform.search.query import SearchQuery
from tests.factories import CustomerFactory


@pytest.fixture
def demo(db) -> str:
    out = StringIO()
    call_command("guanxi_demo", customers=50, stdout=out)
    return out.getvalue()


def test_small_demo_loads_and_reports(demo):
    assert "Demo company loaded" in demo
    assert "50 customers" in demo
    assert f"password “{DEMO_PASSWORD}”" in demo
    assert Customer.objects.count() == 50
    assert Customer.objects.filter(kind=CustomerKind.ORGANISATION).count() >= 3
    assert Customer.objects.filter(organisation__isnull=False).exists()


def test_a_user_of_every_role_in_a_team_tree(demo, client):
    users = {u.username: u for u in User.objects.filter(username__in=[d.username for d in DEMO_USERS])}
    assert {u.role.code for u in users.values()} == {
        "sales_manager", "sales_rep", "marketer", "service_agent", "analyst"
    }  # fmt: skip
    assert users["rep1"].team.parent == users["manager"].team
    assert users["manager"].team.manager == users["manager"]
    assert Team.objects.filter(parent__isnull=True).count() == 1
    response = client.post(reverse("ui:login"), {"username": "rep1", "password": DEMO_PASSWORD})
    assert response.status_code == 302


def test_every_phone_email_and_identifier_is_valid(demo):
    points = list(ContactPoint.objects.all())
    phones = [p for p in points if p.kind == ContactKind.PHONE]
    emails = [p for p in points if p.kind == ContactKind.EMAIL]
    assert len(phones) >= 40
    for point in phones:
        assert normalise_phone(point.value).stored == point.value
        assert point.search_key == reversed_digits(point.value)
    for point in emails:
        assert normalise_email(point.value) == point.value
    ids = Customer.objects.exclude(id_number_encrypted="")
    assert ids.exists()
    for customer in ids:
        number = pii_decrypt(customer.id_number_encrypted)
        assert ric.is_valid(number)
        assert normalise_ric(number) == number
        assert customer.id_number_hash == pii_hash(number)
        assert customer.id_number_masked == number[:6] + "********" + number[-4:]
        assert ric.get_birth_date(number) == customer.birthday
    orgs = Customer.objects.filter(kind=CustomerKind.ORGANISATION)
    for org in orgs:
        assert uscc.is_valid(org.uscc)
        assert normalise_uscc(org.uscc) == org.uscc
    for lead in Lead.objects.exclude(phone=""):
        assert normalise_phone(lead.phone).stored == lead.phone
        assert lead.phone_search_key == reversed_digits(lead.phone)


def test_pinyin_columns_and_names(demo):
    for customer in Customer.objects.all():
        assert customer.name_pinyin == full_pinyin(customer.name)
        assert customer.name_initials == pinyin_initials(customer.name)
        if customer.kind == CustomerKind.PERSON:
            assert customer.family_name + customer.given_name == customer.name


def test_leads_in_every_status_interactions_tasks_pool_and_tags(demo):
    assert set(Lead.objects.values_list("status", flat=True)) == set(LeadStatus.values)
    converted = Lead.objects.filter(status=LeadStatus.CONVERTED).exclude(converted_customer=None)
    assert converted.exists()
    now = timezone.now()
    interactions = Interaction.objects.filter(customer__isnull=False)
    assert interactions.count() >= 50
    oldest = interactions.order_by("occurred_at").first()
    assert oldest is not None and (now - oldest.occurred_at).days > 180
    assert not Interaction.objects.filter(occurred_at__gt=now).exists()
    rep1 = User.objects.get(username="rep1")
    today = timezone.localdate()
    open_tasks = Task.objects.filter(assignee=rep1, status=TaskStatus.OPEN)
    assert open_tasks.filter(due_at__date=today).count() >= 3
    assert open_tasks.filter(due_at__lt=now).exists()
    pool = Pool.objects.get(is_default=True)
    in_pool = Customer.objects.filter(owner__isnull=True, pool=pool)
    assert in_pool.exists()
    assert PoolEvent.objects.filter(customer__in=in_pool).count() == in_pool.count()
    assert TaggedItem.objects.filter(target="customers.customer").exists()
    with_contact = Customer.objects.exclude(last_contact_at=None)
    for customer in with_contact[:10]:
        latest = customer.interactions.order_by("-occurred_at").first()
        assert latest is not None and latest.occurred_at == customer.last_contact_at


def test_created_times_spread_over_two_years(demo):
    now = timezone.now()
    oldest = Customer.objects.order_by("created_at").first()
    assert oldest is not None and 300 < (now - oldest.created_at).days <= 731
    assert Customer.history.count() >= 50


def test_reps_see_only_their_customers_and_the_pool_is_searchable(demo):
    rep1 = User.objects.get(username="rep1")
    mine = list(customer_list(actor=Actor(user=rep1)))
    assert mine
    assert {c.owner_id for c in mine} <= {rep1.pk, None}
    pool_customer = Customer.objects.filter(owner__isnull=True).first()
    assert pool_customer is not None
    hits = customer_search_hits(Actor(user=rep1), SearchQuery.parse(pool_customer.name_initials), 50)
    assert pool_customer.pk in {h.id for h in hits}


def test_refuses_to_load_twice(demo):
    with pytest.raises(CommandError, match="already loaded"):
        call_command("guanxi_demo", customers=10, force=True)
    assert Customer.objects.count() == 50


def test_refuses_a_database_with_customers_unless_forced(db):
    CustomerFactory()
    with pytest.raises(CommandError, match="--force"):
        call_command("guanxi_demo", customers=10, stdout=StringIO())
    assert Customer.objects.count() == 1
    call_command("guanxi_demo", customers=10, force=True, stdout=StringIO())
    assert Customer.objects.count() == 11


def test_rejects_zero_customers(db):
    with pytest.raises(CommandError, match="at least one"):
        call_command("guanxi_demo", customers=0, stdout=StringIO())
    assert not User.objects.exists()
