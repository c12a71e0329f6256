"""What `make bench` measures: each scenario is one request through the whole Django stack and, beside it,
a baseline that fetches (or writes) the same rows with raw SQL through the same database connection.

A scenario draws a fresh argument for every iteration (another customer, another search term) from
samples picked once from the database, so no cache flatters the figures. Requests go through Django's
test client in this process: middleware, session, permission scoping, templates and JSON rendering are all
timed; the network and gunicorn are not (the locust run in `bench/locustfile.py` measures those).

The baselines are deliberately the minimum a hand-written application would run: the page's rows with
their owner and primary contact points, the customer with its contact points, latest interactions and open
tasks, one index-friendly search condition, and INSERTs copying an existing row's shape. The ratio of the
two medians is the framework's (and our code's) overhead.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import Count
from django.test import Client

from guanxi.customers.models import ContactPoint, Customer, Interaction
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.pagination import encode_cursor
from guanxi.platform.identity.models import Role, Team, User
from guanxi.platform.identity.roles import ADMINISTRATOR
from guanxi.platform.identity.services import (
    api_token_create,
    api_token_revoke,
    roles_ensure_builtin,
    token_scope_choices,
)

ADMIN_USERNAME = "bench_admin"
REP_USERNAME = "bench_user_027"  # a sales rep in a group team (see scale_data.bench_org_ensure)
MANAGER_USERNAME = "bench_user_002"  # manages a region: its own team and the groups under it
SAMPLE_SIZE = 200
DEEP_FRACTION = 0.9  # "deep page": the page that starts 90% of the way down the actor's list
PAGE_SIZE = 50


@dataclass
class Scenario:
    """One measured request: `request(arg)` through Django, `baseline(arg)` in raw SQL, args drawn per run."""

    name: str
    group: str
    actor: str
    request: Callable[[Any], Any]
    baseline: Callable[[Any], None]
    args: Sequence[Any]
    page_size_variants: dict[int, Callable[[Any], Any]] = field(default_factory=dict)


@dataclass
class BenchActor:
    label: str
    user: User
    client: Client
    token: str
    visible_sql: str  # a WHERE condition on customers_customer (alias c) for what this actor may see
    visible_params: list[Any]


def _fetch(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def _team_subtree_ids(team: Team) -> list[int]:
    return list(Team.objects.filter(path__startswith=team.path).values_list("id", flat=True))


def bench_admin_ensure() -> User:
    roles_ensure_builtin()
    head = Team.objects.filter(name="Bench 总部").first()
    user, _created = User.objects.get_or_create(
        username=ADMIN_USERNAME,
        defaults={"display_name": "压测管理员", "team": head, "role": Role.objects.get(code=ADMINISTRATOR)},
    )
    return user


def _actor(label: str, user: User, visible_sql: str, params: list[Any]) -> BenchActor:
    client = Client()
    client.force_login(user)
    every_write_scope = [scope for scope in token_scope_choices() if scope.endswith(":write")]
    _token, secret = api_token_create(
        actor=Actor(user=user), name=f"bench {label}", scopes=every_write_scope, expires_at=None
    )
    return BenchActor(label, user, client, secret, visible_sql, params)


def _rep_with_customers() -> User:
    """REP_USERNAME, or on a small database (tests) the bench rep who owns the most customers."""
    rep = User.objects.select_related("team").get(username=REP_USERNAME)
    if Customer.objects.filter(owner=rep).exists():
        return rep
    return (
        User.objects.select_related("team")
        .filter(username__startswith="bench_user_", role__code="sales_rep")
        .annotate(owned=Count("owned_customers"))
        .order_by("-owned", "username")
        .first()
    ) or rep


def bench_actors() -> list[BenchActor]:
    """The rep, the region manager and an administrator, each logged in and holding an API token."""
    rep = _rep_with_customers()
    manager = User.objects.select_related("team").get(username=MANAGER_USERNAME)
    admin = bench_admin_ensure()
    teams = _team_subtree_ids(manager.team)  # type: ignore[arg-type]
    marks = ", ".join(["%s"] * len(teams))
    return [
        _actor("rep", rep, "c.owner_id = %s", [rep.pk]),
        _actor("manager", manager, f"c.team_id IN ({marks})", teams),
        _actor("admin", admin, "1 = 1", []),
    ]


def revoke_tokens(actors: Sequence[BenchActor]) -> None:
    from guanxi.platform.identity.models import ApiToken

    for bench_actor in actors:
        for token_id in ApiToken.objects.filter(user=bench_actor.user, revoked_at__isnull=True).values_list(
            "id", flat=True
        ):
            api_token_revoke(actor=Actor(user=bench_actor.user), token_id=token_id)


def _check(response: Any, status: int = 200) -> Any:
    if response.status_code != status:
        body = response.content[:500].decode(errors="replace")
        raise RuntimeError(f"{response.request['PATH_INFO']} answered {response.status_code}: {body}")
    return response


def _api_get(bench_actor: BenchActor, path: str, params: dict[str, Any]) -> Any:
    return _check(bench_actor.client.get(path, params, headers={"authorization": f"Bearer {bench_actor.token}"}))


def _api_post(bench_actor: BenchActor, path: str, payload: dict[str, Any]) -> Any:
    return _check(
        bench_actor.client.post(
            path,
            json.dumps(payload),
            content_type="application/json",
            headers={"authorization": f"Bearer {bench_actor.token}"},
        ),
        201,
    )


# Lists -----------------------------------------------------------------------------------------------


def _deep_page_after_id(bench_actor: BenchActor) -> int:
    """The id after which the page DEEP_FRACTION of the way down the actor's newest-first list starts."""
    sql = f"SELECT count(*) FROM customers_customer c WHERE {bench_actor.visible_sql}"
    (total,) = _fetch(sql, bench_actor.visible_params)[0]
    offset = max(int(total * DEEP_FRACTION), 1)
    rows = _fetch(
        f"SELECT c.id FROM customers_customer c WHERE {bench_actor.visible_sql} ORDER BY c.id DESC LIMIT 1 OFFSET %s",
        [*bench_actor.visible_params, offset],
    )
    return int(rows[0][0]) if rows else 1


def _list_baseline(bench_actor: BenchActor, before_id: int | None) -> None:
    keyset = " AND c.id < %s" if before_id is not None else ""
    params = [*bench_actor.visible_params, *([before_id] if before_id is not None else []), PAGE_SIZE + 1]
    rows = _fetch(
        "SELECT c.id, c.kind, c.name, c.company_name, c.lifecycle_stage, c.rating, c.last_contact_at, "
        "c.next_follow_up_at, c.pool_id, u.id, u.display_name FROM customers_customer c "
        "LEFT JOIN identity_user u ON u.id = c.owner_id "
        f"WHERE {bench_actor.visible_sql}{keyset} ORDER BY c.id DESC LIMIT %s",
        params,
    )
    ids = [row[0] for row in rows]
    if ids:
        marks = ", ".join(["%s"] * len(ids))
        _fetch(
            "SELECT customer_id, kind, value FROM customers_contactpoint "
            f"WHERE is_primary AND kind IN ('phone', 'email') AND customer_id IN ({marks})",
            ids,
        )


def list_scenarios(actors: Sequence[BenchActor]) -> list[Scenario]:
    scenarios = []
    for bench_actor in actors:
        deep_after = _deep_page_after_id(bench_actor)
        for depth, after_id in (("first", None), ("deep", deep_after)):
            cursor = encode_cursor("-id", after_id, after_id) if after_id is not None else None
            html_params = {"cursor": cursor} if cursor else {}

            def html(_arg: Any, a: BenchActor = bench_actor, p: dict[str, Any] = html_params) -> Any:
                return _check(a.client.get("/customers/", p))

            def api(_arg: Any, a: BenchActor = bench_actor, c: str | None = cursor, size: int = PAGE_SIZE) -> Any:
                return _api_get(a, "/api/v1/customers", {"limit": size, **({"cursor": c} if c else {})})

            def baseline(_arg: Any, a: BenchActor = bench_actor, before: int | None = after_id) -> None:
                _list_baseline(a, before)

            scenarios.append(Scenario(f"list page ({depth})", "list", bench_actor.label, html, baseline, [None]))
            scenarios.append(
                Scenario(
                    f"list API ({depth})",
                    "list",
                    bench_actor.label,
                    api,
                    baseline,
                    [None],
                    page_size_variants={
                        size: (lambda _arg, a=bench_actor, c=cursor, s=size: api(_arg, a, c, s)) for size in (10, 200)
                    },
                )
            )
    return scenarios


# The 360° page -----------------------------------------------------------------------------------------


def _sample_ids(sql: str, params: Sequence[Any], rng: random.Random) -> list[Any]:
    rows = _fetch(sql, params)
    values = [row[0] for row in rows]
    rng.shuffle(values)
    return values[:SAMPLE_SIZE]


def customer_detail_scenarios(actors: Sequence[BenchActor], rng: random.Random) -> list[Scenario]:
    rep = actors[0]
    ids = _sample_ids(
        f"SELECT c.id FROM customers_customer c WHERE {rep.visible_sql} ORDER BY c.id LIMIT 2000",
        rep.visible_params,
        rng,
    )

    def page(customer_id: int) -> Any:
        return _check(rep.client.get(f"/customers/{customer_id}/"))

    def baseline(customer_id: int) -> None:
        _fetch(
            "SELECT c.*, u.display_name FROM customers_customer c LEFT JOIN identity_user u ON u.id = c.owner_id "
            "WHERE c.id = %s",
            [customer_id],
        )
        _fetch("SELECT * FROM customers_contactpoint WHERE customer_id = %s ORDER BY kind, id", [customer_id])
        _fetch(
            "SELECT * FROM customers_interaction WHERE customer_id = %s ORDER BY occurred_at DESC, id DESC LIMIT 20",
            [customer_id],
        )
        _fetch(
            "SELECT * FROM customers_task WHERE customer_id = %s AND status = 'open' ORDER BY due_at, id",
            [customer_id],
        )

    return [Scenario("360° page", "customer", rep.label, page, baseline, ids)]


# Search -----------------------------------------------------------------------------------------------


def _search_terms(rng: random.Random) -> dict[str, list[str]]:
    """Search terms drawn from real rows: 2-character Chinese names, initials, phone suffixes, email prefixes."""
    max_id = _fetch("SELECT max(id) FROM customers_customer", [])[0][0] or 1
    start = rng.randrange(1, max(max_id - 50_000, 2))
    names = _fetch(
        "SELECT name, name_initials FROM customers_customer WHERE id >= %s AND kind = 'person' "
        "AND length(name) = 2 ORDER BY id LIMIT 2000",
        [start],
    )
    han = [name for name, _initials in names if all("\u4e00" <= ch <= "\u9fff" for ch in name)]
    initials = [initials for _name, initials in names if len(initials) >= 2]
    phones = _fetch(
        "SELECT value FROM customers_contactpoint WHERE kind = 'phone' AND id >= %s ORDER BY id LIMIT 2000",
        [start * 5],
    ) or _fetch("SELECT value FROM customers_contactpoint WHERE kind = 'phone' ORDER BY id LIMIT 2000", [])
    emails = _fetch(
        "SELECT value FROM customers_contactpoint WHERE kind = 'email' AND id >= %s ORDER BY id LIMIT 2000",
        [start * 5],
    ) or _fetch("SELECT value FROM customers_contactpoint WHERE kind = 'email' ORDER BY id LIMIT 2000", [])
    terms = {
        "2-character name": han,
        "pinyin initials": initials,
        "phone suffix": [value[-4:] for (value,) in phones],
        "email prefix": [value.split("@")[0][:4] for (value,) in emails if len(value.split("@")[0]) >= 4],
    }
    for values in terms.values():
        rng.shuffle(values)
    return {kind: values[:SAMPLE_SIZE] for kind, values in terms.items()}


def _prefix_condition(column: str) -> str:
    """`column` starts with the parameter (given as the bare prefix), in the form the database's index serves."""
    if connection.vendor == "postgresql":
        return f"{column} LIKE %s || '%%'"
    return f"({column} >= %s AND {column} < %s || char(1114111))"


def _search_baseline(kind: str, term: str, bench_actor: BenchActor) -> None:
    where, params = bench_actor.visible_sql, list(bench_actor.visible_params)
    value = term
    if kind == "2-character name":
        condition = _prefix_condition("c.name")
    elif kind == "pinyin initials":
        condition = _prefix_condition("c.name_initials")
    else:
        value = term[::-1] if kind == "phone suffix" else term.lower()
        contact_kind = "phone" if kind == "phone suffix" else "email"
        condition = (
            "c.id IN (SELECT p.customer_id FROM customers_contactpoint p "
            f"WHERE p.kind = '{contact_kind}' AND {_prefix_condition('p.search_key')})"
        )
    values = [value] if connection.vendor == "postgresql" else [value, value]
    _fetch(
        f"SELECT c.id, c.name, c.kind FROM customers_customer c WHERE {where} AND {condition} "
        "ORDER BY length(c.name), c.id LIMIT 10",
        [*params, *values],
    )


def search_scenarios(actors: Sequence[BenchActor], rng: random.Random) -> list[Scenario]:
    terms = _search_terms(rng)
    scenarios = []
    for bench_actor in (actors[0], actors[2]):
        for kind, values in terms.items():
            if not values:
                continue

            def request(term: str, a: BenchActor = bench_actor) -> Any:
                return _api_get(a, "/api/v1/search", {"q": term, "limit": 10})

            def baseline(term: str, a: BenchActor = bench_actor, k: str = kind) -> None:
                _search_baseline(k, term, a)

            scenarios.append(Scenario(f"search: {kind}", "search", bench_actor.label, request, baseline, values))
    return scenarios


# Writes -----------------------------------------------------------------------------------------------


@dataclass
class WrittenRows:
    """Rows the write scenarios add, removed again after the run so the database keeps its size."""

    customer_ids: list[int] = field(default_factory=list)
    interaction_ids: list[int] = field(default_factory=list)

    def remove(self) -> None:
        Interaction.objects.filter(pk__in=self.interaction_ids).delete()
        Customer.objects.filter(pk__in=self.customer_ids).delete()


def _columns(model: Any, skip: set[str]) -> list[str]:
    return [f.column for f in model._meta.concrete_fields if f.column not in skip]


def _insert_copy(table: str, columns: list[str], overrides: dict[str, str], source_id: int, params: list[Any]) -> int:
    """INSERT ... SELECT copying row `source_id` with some columns replaced by parameters; returns the new id."""
    selected = ", ".join(overrides.get(column, column) for column in columns)
    rows = _fetch(
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT {selected} FROM {table} WHERE id = %s RETURNING id",
        [*params, source_id],
    )
    return int(rows[0][0])


def write_scenarios(actors: Sequence[BenchActor], rng: random.Random, written: WrittenRows) -> list[Scenario]:
    rep = actors[0]
    own_ids = _sample_ids(
        f"SELECT c.id FROM customers_customer c WHERE {rep.visible_sql} ORDER BY c.id LIMIT 2000",
        rep.visible_params,
        rng,
    )
    # Any existing row gives the shape to copy; the baseline then points the copy at the rep's customer.
    template_point = ContactPoint.objects.filter(kind="phone").values_list("id", flat=True)[0]
    template_interaction = Interaction.objects.values_list("id", flat=True)[0]
    customer_columns = _columns(Customer, {"id"})
    point_columns = _columns(ContactPoint, {"id"})
    interaction_columns = _columns(Interaction, {"id"})
    counter = iter(range(10**9))

    def new_phone() -> str:
        return f"+86139{rng.randrange(10**8):08d}"

    def create(index: int) -> Any:
        payload = {
            "kind": "person",
            "name": f"压测新客{index}",
            "contact_points": [{"kind": "phone", "value": new_phone()}],
        }
        response = _api_post(rep, "/api/v1/customers", payload)
        written.customer_ids.append(int(response.json()["id"]))
        return response

    def create_baseline(index: int) -> None:
        with transaction.atomic():
            new_id = _insert_copy(
                "customers_customer",
                customer_columns,
                {"name": "%s", "created_at": "CURRENT_TIMESTAMP", "updated_at": "CURRENT_TIMESTAMP"},
                own_ids[0],
                [f"压测基线{index}"],
            )
            written.customer_ids.append(new_id)
            phone = new_phone()
            _insert_copy(
                "customers_contactpoint",
                point_columns,
                {"customer_id": "%s", "value": "%s", "search_key": "%s"},
                template_point,
                [new_id, phone, "".join(ch for ch in phone if ch.isdigit())[::-1]],
            )

    def log(customer_id: int) -> Any:
        payload = {"customer_id": customer_id, "channel": "call", "subject": "压测跟进"}
        response = _api_post(rep, "/api/v1/interactions", payload)
        written.interaction_ids.append(int(response.json()["id"]))
        return response

    def log_baseline(customer_id: int) -> None:
        with transaction.atomic():
            new_id = _insert_copy(
                "customers_interaction",
                interaction_columns,
                {
                    "customer_id": "%s",
                    "occurred_at": "CURRENT_TIMESTAMP",
                    "created_at": "CURRENT_TIMESTAMP",
                    "updated_at": "CURRENT_TIMESTAMP",
                },
                template_interaction,
                [customer_id],
            )
            written.interaction_ids.append(new_id)
            _fetch(
                "UPDATE customers_customer SET last_contact_at = CURRENT_TIMESTAMP WHERE id = %s RETURNING id",
                [customer_id],
            )

    indexes = [next(counter) for _ in range(SAMPLE_SIZE)]
    return [
        Scenario("create customer (API)", "write", rep.label, create, create_baseline, indexes),
        Scenario("log interaction (API)", "write", rep.label, log, log_baseline, own_ids),
    ]
