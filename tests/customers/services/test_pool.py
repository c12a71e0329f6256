"""The public pool (公海): claims with limits and cool-down, returns, the automatic return, pool settings."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from guanxi.customers.models import Customer, Pool, PoolEvent
from guanxi.customers.models.choices import PoolAction
from guanxi.customers.pool_jobs import PERIODIC_NAME
from guanxi.customers.selectors.pool import (
    PoolCustomerFilters,
    customer_pool_history,
    pool_claim_allowances,
    pool_customers,
    pool_for_team,
)
from guanxi.customers.services import pool as pool_services
from guanxi.customers.services.customers import customers_assign_owner
from guanxi.customers.services.pool import (
    AlreadyClaimed,
    NoPoolAvailable,
    PoolClaimLimitReached,
    PoolCooldown,
    customer_claim_from_pool,
    customer_return_to_pool,
    customers_return_to_pool_bulk,
    pool_auto_return,
    pool_save,
)
from guanxi.platform.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from guanxi.platform.core.jobs import periodic_jobs, run_periodic_job
from guanxi.platform.notifications.models import Notification
from tests.customers.pool_data import make_pool, owned_customer, pool_customer
from tests.factories import CustomerFactory, actor

# --- claim -------------------------------------------------------------------------------------------


def test_claim_makes_the_rep_owner_and_records_the_move(org: Any) -> None:
    pool = make_pool(is_default=True)
    customer = pool_customer(pool, team=org.south)
    version = customer.version

    claimed = customer_claim_from_pool(actor=org.actor("rep_north"), customer_id=customer.pk)

    assert claimed.owner_id == org.rep_north.pk
    assert claimed.team_id == org.north.pk
    assert claimed.pool_id is None and claimed.pool_entered_at is None
    assert claimed.owner_since is not None
    assert claimed.version == version + 1
    event = PoolEvent.objects.get(customer=customer)
    assert (event.action, event.pool_id, event.to_user_id, event.actor_id) == (
        PoolAction.CLAIMED, pool.pk, org.rep_north.pk, org.rep_north.pk,
    )  # fmt: skip
    latest = Customer.history.filter(id=customer.pk).latest("history_date")  # type: ignore[attr-defined]
    assert latest.owner_id == org.rep_north.pk
    assert latest.history_user_id == org.rep_north.pk
    assert latest.history_change_reason == "Claimed from the pool"


def test_claim_refused_when_the_rep_owns_the_most_the_pool_allows(org: Any) -> None:
    pool = make_pool(is_default=True, max_owned_per_rep=2)
    CustomerFactory.create_batch(2, owner=org.rep_north)
    customer = pool_customer(pool)

    with pytest.raises(PoolClaimLimitReached) as exc:
        customer_claim_from_pool(actor=org.actor("rep_north"), customer_id=customer.pk)

    assert exc.value.status == 409
    assert "You already own 2 customers" in exc.value.message and "at most 2 per rep" in exc.value.message
    customer.refresh_from_db()
    assert customer.owner_id is None and customer.pool_id == pool.pk
    assert not PoolEvent.objects.exists()


def test_claim_refused_after_the_daily_limit_and_yesterdays_claims_do_not_count(org: Any) -> None:
    pool = make_pool(is_default=True, max_claims_per_day=2)
    first, second, third = (pool_customer(pool) for _ in range(3))
    rep = org.actor("rep_north")
    customer_claim_from_pool(actor=rep, customer_id=first.pk)
    PoolEvent.objects.filter(customer=first).update(occurred_at=timezone.now() - dt.timedelta(days=1))
    customer_claim_from_pool(actor=rep, customer_id=second.pk)
    customer_claim_from_pool(actor=rep, customer_id=third.pk)
    fourth = pool_customer(pool)

    with pytest.raises(PoolClaimLimitReached) as exc:
        customer_claim_from_pool(actor=rep, customer_id=fourth.pk)

    assert "You have claimed 2 customers today" in exc.value.message
    assert Customer.objects.filter(owner=org.rep_north).count() == 3


def test_previous_owner_waits_for_the_cooldown_but_others_may_claim(org: Any) -> None:
    make_pool(is_default=True, cooldown_days=7)
    customer = owned_customer(org.rep_north, owned_days=3)
    customer_return_to_pool(actor=org.actor("rep_north"), customer=customer, reason="不再跟进")

    with pytest.raises(PoolCooldown) as exc:
        customer_claim_from_pool(actor=org.actor("rep_north"), customer_id=customer.pk)

    returned_at = PoolEvent.objects.get(customer=customer).occurred_at
    until = timezone.localtime(returned_at + dt.timedelta(days=7), dt.timezone(dt.timedelta(hours=8)))
    assert f"you may claim it again from {until:%Y-%m-%d %H:%M}" in exc.value.message
    claimed = customer_claim_from_pool(actor=org.actor("rep_north_sub"), customer_id=customer.pk)
    assert claimed.owner_id == org.rep_north_sub.pk


def test_previous_owner_may_claim_again_once_the_cooldown_is_over(org: Any) -> None:
    pool = make_pool(is_default=True, cooldown_days=7)
    customer = owned_customer(org.rep_north, owned_days=3)
    customer_return_to_pool(actor=org.actor("rep_north"), customer=customer, reason="不再跟进")
    PoolEvent.objects.filter(customer=customer).update(occurred_at=timezone.now() - dt.timedelta(days=7, minutes=1))

    claimed = customer_claim_from_pool(actor=org.actor("rep_north"), customer_id=customer.pk)

    assert claimed.owner_id == org.rep_north.pk
    assert pool.pk == PoolEvent.objects.filter(action=PoolAction.CLAIMED).get().pool_id


def test_claim_of_a_customer_someone_else_just_took_is_a_conflict(org: Any) -> None:
    pool = make_pool(is_default=True)
    customer = pool_customer(pool)
    customer_claim_from_pool(actor=org.actor("rep_north"), customer_id=customer.pk)

    with pytest.raises(AlreadyClaimed) as exc:
        customer_claim_from_pool(actor=org.actor("rep_south"), customer_id=customer.pk)

    assert exc.value.status == 409
    assert Customer.objects.get(pk=customer.pk).owner_id == org.rep_north.pk


def test_claim_loses_when_another_claim_commits_between_read_and_write(org: Any, monkeypatch: Any) -> None:
    """The conditional UPDATE (owner still empty) is what decides, not the earlier read."""
    pool = make_pool(is_default=True)
    customer = pool_customer(pool)

    def someone_else_claims_first(*args: Any, **kwargs: Any) -> None:
        Customer.objects.filter(pk=customer.pk).update(owner=org.rep_south, pool=None)

    monkeypatch.setattr(pool_services, "_check_claim_rules", someone_else_claims_first)

    with pytest.raises(AlreadyClaimed):
        customer_claim_from_pool(actor=org.actor("rep_north"), customer_id=customer.pk)

    # The simulated rival write ran inside this claim's transaction, so the refusal rolled it back too.
    assert not PoolEvent.objects.exists()


def test_claim_of_a_customer_never_in_a_visible_pool_is_not_found(org: Any) -> None:
    make_pool(is_default=True)
    owned = CustomerFactory(owner=org.rep_south)

    with pytest.raises(NotFound):
        customer_claim_from_pool(actor=org.actor("rep_north"), customer_id=owned.pk)
    with pytest.raises(NotFound):
        customer_claim_from_pool(actor=org.actor("rep_north"), customer_id=999_999)


def test_rep_of_south_cannot_claim_from_the_pool_of_north(org: Any) -> None:
    north_pool = make_pool(name="华北公海", team=org.north)
    customer = pool_customer(north_pool, team=org.north)

    with pytest.raises(NotFound):
        customer_claim_from_pool(actor=org.actor("rep_south"), customer_id=customer.pk)

    assert list(pool_customers(actor=org.actor("rep_south"))) == []
    assert [c.pk for c in pool_customers(actor=org.actor("rep_north_sub"))] == [customer.pk]
    assert customer_claim_from_pool(actor=org.actor("rep_north_sub"), customer_id=customer.pk).owner_id == (
        org.rep_north_sub.pk
    )


def test_claim_needs_the_claim_permission(org: Any) -> None:
    pool = make_pool(is_default=True)
    customer = pool_customer(pool)

    with pytest.raises(PermissionDenied):
        customer_claim_from_pool(actor=org.actor("analyst"), customer_id=customer.pk)


def test_claim_from_a_closed_pool_is_refused(org: Any) -> None:
    pool = make_pool(is_active=False)
    customer = pool_customer(pool)

    with pytest.raises(Conflict) as exc:
        customer_claim_from_pool(actor=org.actor("rep_north"), customer_id=customer.pk)

    assert "is closed" in exc.value.message


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_reps_claiming_the_same_customer_at_once_give_exactly_one_owner(org: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks and concurrent connections")
    pool = make_pool(is_default=True)
    customer = pool_customer(pool)
    reps = [org.rep_north, org.rep_south]
    barrier = threading.Barrier(len(reps))
    outcomes: dict[str, str] = {}

    def claim(user: Any) -> None:
        try:
            barrier.wait(timeout=10)
            customer_claim_from_pool(actor=actor(user), customer_id=customer.pk)
            outcomes[user.username] = "owner"
        except AlreadyClaimed:
            outcomes[user.username] = "conflict"
        except Exception as exc:
            outcomes[user.username] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(user,)) for user in reps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes.values()) == ["conflict", "owner"]
    winner = next(name for name, outcome in outcomes.items() if outcome == "owner")
    customer.refresh_from_db()
    assert customer.owner.username == winner
    assert customer.pool_id is None
    assert PoolEvent.objects.filter(customer=customer, action=PoolAction.CLAIMED).count() == 1


# --- return by hand ----------------------------------------------------------------------------------


def test_return_needs_a_reason(org: Any) -> None:
    make_pool(is_default=True)
    customer = owned_customer(org.rep_north, owned_days=3)

    with pytest.raises(ValidationFailed) as exc:
        customer_return_to_pool(actor=org.actor("rep_north"), customer=customer, reason="   ")

    assert exc.value.fields == {"reason": ["Say why."]}
    customer.refresh_from_db()
    assert customer.owner_id == org.rep_north.pk
    assert not PoolEvent.objects.exists()


def test_return_goes_to_the_pool_of_the_nearest_team_else_the_default(org: Any) -> None:
    default = make_pool(name="公司公海", is_default=True)
    north_pool = make_pool(name="华北公海", team=org.north)
    sub_customer = owned_customer(org.rep_north_sub, owned_days=3)
    south_customer = owned_customer(org.rep_south, owned_days=3)

    returned = customer_return_to_pool(actor=org.actor("rep_north_sub"), customer=sub_customer, reason="电话空号")
    customer_return_to_pool(actor=org.actor("rep_south"), customer=south_customer, reason="无意向")

    assert (returned.owner_id, returned.pool_id, returned.team_id) == (None, north_pool.pk, org.north_sub.pk)
    assert returned.pool_entered_at is not None and returned.owner_since is None
    assert Customer.objects.get(pk=south_customer.pk).pool_id == default.pk
    event = PoolEvent.objects.get(customer=sub_customer)
    assert (event.action, event.from_user_id, event.reason, event.pool_id) == (
        PoolAction.RETURNED, org.rep_north_sub.pk, "电话空号", north_pool.pk,
    )  # fmt: skip
    assert pool_for_team(org.north_sub.pk) == north_pool
    assert pool_for_team(None) == default


def test_return_without_any_pool_is_refused_clearly(org: Any) -> None:
    customer = owned_customer(org.rep_north, owned_days=3)

    with pytest.raises(NoPoolAvailable) as exc:
        customer_return_to_pool(actor=org.actor("rep_north"), customer=customer, reason="无意向")

    assert "There is no public pool" in exc.value.message
    assert Customer.objects.get(pk=customer.pk).owner_id == org.rep_north.pk


def test_another_rep_cannot_return_my_customer_but_my_manager_can(org: Any) -> None:
    make_pool(is_default=True)
    customer = owned_customer(org.rep_north, owned_days=3)

    with pytest.raises(NotFound):
        customer_return_to_pool(actor=org.actor("rep_south"), customer=customer, reason="无意向")
    returned = customer_return_to_pool(actor=org.actor("manager_north"), customer=customer, reason="重新分配")

    assert returned.owner_id is None
    assert PoolEvent.objects.get().actor_id == org.manager_north.pk


def test_returning_a_customer_already_in_the_pool_is_a_conflict(org: Any) -> None:
    pool = make_pool(is_default=True)
    customer = pool_customer(pool)

    with pytest.raises(Conflict):
        customer_return_to_pool(actor=org.actor("manager_north"), customer=customer, reason="x")


def test_bulk_return_moves_only_the_reps_own_customers(org: Any) -> None:
    make_pool(is_default=True)
    mine = [owned_customer(org.rep_north, owned_days=3) for _ in range(3)]
    other = owned_customer(org.rep_south, owned_days=3)

    moved = customers_return_to_pool_bulk(
        actor=org.actor("rep_north"), customer_ids=[c.pk for c in [*mine, other]], reason="季度清理"
    )

    assert moved == 3
    assert Customer.objects.filter(owner__isnull=True, pool__isnull=False).count() == 3
    assert Customer.objects.get(pk=other.pk).owner_id == org.rep_south.pk
    assert PoolEvent.objects.filter(action=PoolAction.RETURNED, reason="季度清理").count() == 3
    assert Customer.history.filter(id=mine[0].pk, history_change_reason="季度清理").count() == 1  # type: ignore[attr-defined]


def test_bulk_return_needs_a_reason(org: Any) -> None:
    make_pool(is_default=True)
    customer = owned_customer(org.rep_north, owned_days=3)

    with pytest.raises(ValidationFailed) as exc:
        customers_return_to_pool_bulk(actor=org.actor("rep_north"), customer_ids=[customer.pk], reason="")

    assert list(exc.value.fields) == ["reason"]


def test_assigning_away_records_the_move_and_starts_the_cooldown(org: Any) -> None:
    pool = make_pool(is_default=True, cooldown_days=3)
    customer = owned_customer(org.rep_north, owned_days=3)
    customers_assign_owner(actor=org.actor("manager_north"), customer_ids=[customer.pk], owner_id=org.rep_north_sub.pk)
    customer_return_to_pool(actor=org.actor("rep_north_sub"), customer=customer, reason="不合适")

    with pytest.raises(PoolCooldown):
        customer_claim_from_pool(actor=org.actor("rep_north"), customer_id=customer.pk)

    actions = list(
        customer_pool_history(actor=org.actor("manager_north"), customer=customer).values_list("action", flat=True)
    )
    assert actions == [PoolAction.RETURNED, PoolAction.ASSIGNED]
    assert Customer.objects.get(pk=customer.pk).pool_id == pool.pk


# --- automatic return --------------------------------------------------------------------------------


def test_auto_return_after_n_days_without_follow_up_is_idempotent(org: Any) -> None:
    pool = make_pool(is_default=True, return_after_days_without_follow_up=30)
    stale = owned_customer(org.rep_north, owned_days=40, last_contact_days=35)
    never_contacted = owned_customer(org.rep_north, owned_days=40)
    recently_contacted = owned_customer(org.rep_north, owned_days=40, last_contact_days=5)
    just_claimed = owned_customer(org.rep_south, owned_days=5, last_contact_days=60)
    now = timezone.now()

    assert pool_auto_return(now) == 2
    assert pool_auto_return(now) == 0

    in_pool = set(Customer.objects.filter(owner__isnull=True, pool=pool).values_list("pk", flat=True))
    assert in_pool == {stale.pk, never_contacted.pk}
    assert Customer.objects.get(pk=recently_contacted.pk).owner_id == org.rep_north.pk
    assert Customer.objects.get(pk=just_claimed.pk).owner_id == org.rep_south.pk
    events = PoolEvent.objects.filter(action=PoolAction.AUTO_RETURNED)
    assert events.count() == 2
    assert set(events.values_list("from_user_id", "reason", "actor_id")) == {
        (org.rep_north.pk, "No follow-up for 30 days", None)
    }
    note = Notification.objects.get(recipient=org.rep_north)
    assert note.title == "2 of your customers went back to the public pool"
    assert Customer.objects.get(pk=stale.pk).team_id == org.north.pk


def test_auto_return_after_m_days_without_a_deal(org: Any) -> None:
    make_pool(is_default=True, return_after_days_without_deal=90)
    no_deal = owned_customer(org.rep_north, owned_days=100, last_contact_days=1, last_deal_days=95)
    recent_deal = owned_customer(org.rep_north, owned_days=100, last_contact_days=1, last_deal_days=10)
    never_dealt_young = owned_customer(org.rep_north, owned_days=30, last_contact_days=1)

    assert pool_auto_return() == 1
    assert pool_auto_return() == 0

    assert Customer.objects.get(pk=no_deal.pk).owner_id is None
    assert Customer.objects.filter(pk__in=[recent_deal.pk, never_dealt_young.pk], owner=org.rep_north).count() == 2
    assert PoolEvent.objects.get().reason == "No deal for 90 days"


def test_auto_return_uses_the_rules_of_each_teams_own_pool(org: Any) -> None:
    default = make_pool(name="公司公海", is_default=True, return_after_days_without_follow_up=60)
    north_pool = make_pool(name="华北公海", team=org.north, return_after_days_without_follow_up=10)
    north_customer = owned_customer(org.rep_north_sub, owned_days=20, last_contact_days=15)
    south_customer = owned_customer(org.rep_south, owned_days=20, last_contact_days=15)
    south_stale = owned_customer(org.rep_south, owned_days=90, last_contact_days=70)

    assert pool_auto_return() == 2

    assert Customer.objects.get(pk=north_customer.pk).pool_id == north_pool.pk
    assert Customer.objects.get(pk=south_customer.pk).owner_id == org.rep_south.pk
    assert Customer.objects.get(pk=south_stale.pk).pool_id == default.pk


def test_auto_return_moves_more_than_one_batch(org: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(pool_services, "BATCH_SIZE", 3)
    make_pool(is_default=True, return_after_days_without_follow_up=30)
    for _ in range(7):
        owned_customer(org.rep_north, owned_days=40)

    assert pool_auto_return() == 7
    assert pool_auto_return() == 0
    assert PoolEvent.objects.count() == 7


def test_auto_return_is_a_registered_periodic_job(org: Any) -> None:
    make_pool(is_default=True, return_after_days_without_follow_up=30)
    owned_customer(org.rep_north, owned_days=40)

    job = next(job for job in periodic_jobs() if job.name == PERIODIC_NAME)
    assert (job.minute, job.hour) == ("15", "*")
    assert run_periodic_job(PERIODIC_NAME) == 1
    assert run_periodic_job(PERIODIC_NAME) == 0


# --- pool settings, allowance, history ---------------------------------------------------------------


def test_pool_save_keeps_a_single_default(org: Any) -> None:
    admin = org.actor("admin")
    first = pool_save(actor=admin, data={"name": "公司公海", "is_default": True})
    second = pool_save(actor=admin, data={"name": "华北公海", "team_id": org.north.pk, "is_default": "on"})

    assert list(Pool.objects.filter(is_default=True)) == [second]
    first.refresh_from_db()
    assert first.is_default is False
    assert second.team_id == org.north.pk


def test_pool_save_names_every_bad_field(org: Any) -> None:
    pool_save(actor=org.actor("admin"), data={"name": "公司公海"})

    with pytest.raises(ValidationFailed) as exc:
        pool_save(
            actor=org.actor("admin"),
            data={"name": "公司公海", "team_id": 999_999, "max_owned_per_rep": "lots", "cooldown_days": -1,
                  "return_after_days_without_deal": 0, "colour": "red"},
        )  # fmt: skip

    assert set(exc.value.fields) == {
        "name", "team_id", "max_owned_per_rep", "cooldown_days", "return_after_days_without_deal", "colour",
    }  # fmt: skip
    assert exc.value.fields["name"] == ["Another pool has this name."]


def test_pool_save_update_checks_the_version_and_needs_manage(org: Any) -> None:
    pool = pool_save(actor=org.actor("admin"), data={"name": "公司公海"})

    updated = pool_save(actor=org.actor("manager_north"), pool=pool, data={"cooldown_days": 5}, expected_version=1)

    assert (updated.cooldown_days, updated.version) == (5, 2)
    with pytest.raises(Conflict):
        pool_save(actor=org.actor("admin"), pool=pool, data={"cooldown_days": 6}, expected_version=1)
    with pytest.raises(PermissionDenied):
        pool_save(actor=org.actor("rep_north"), pool=pool, data={"cooldown_days": 6})
    with pytest.raises(ValidationFailed) as exc:
        pool_save(actor=org.actor("admin"), pool=updated, data={"is_default": True, "is_active": False})
    assert list(exc.value.fields) == ["is_active"]


def test_claim_allowance_counts_owned_customers_and_todays_claims(org: Any) -> None:
    pool = make_pool(is_default=True, max_owned_per_rep=5, max_claims_per_day=3)
    CustomerFactory(owner=org.rep_north)
    customer_claim_from_pool(actor=org.actor("rep_north"), customer_id=pool_customer(pool).pk)

    [allowance] = pool_claim_allowances(actor=org.actor("rep_north"), pools=[pool])

    assert (allowance.owned, allowance.claims_today, allowance.remaining) == (2, 1, 2)


def test_pool_customer_filters_and_previous_owner(org: Any) -> None:
    pool = make_pool(is_default=True)
    other_pool = make_pool(name="其他")
    customer = owned_customer(org.rep_north, owned_days=3, name="张伟")
    customer_return_to_pool(actor=org.actor("rep_north"), customer=customer, reason="无意向")
    pool_customer(other_pool, name="李娜")

    rows = list(pool_customers(actor=org.actor("rep_south"), filters=PoolCustomerFilters(pool_id=pool.pk)))

    assert [c.pk for c in rows] == [customer.pk]
    assert rows[0].previous_owner_name == org.rep_north.display_name
    assert len(list(pool_customers(actor=org.actor("rep_south")))) == 2
    with pytest.raises(ValidationFailed):
        PoolCustomerFilters.from_params({"pool_id": "x"})
