"""Scale data for benchmarks (`guanxi bench-data`, `bench/generate.py`): millions of realistic rows, fast.

Customers (people and organisations, Chinese and Latin names, valid mobiles and landlines, emails,
WeChat IDs, addresses, resident ID numbers and USCCs with their check digits), about 5 contact points
and 10 interactions per customer, tasks, tags and custom field values, owned by 200 bench users in
20 bench teams. Values are made in Python chunk by chunk and written straight into the tables: COPY on
PostgreSQL, `executemany` in one transaction per chunk on SQLite. Every column the app reads is filled
the way the services fill it (pinyin columns, contact search keys, masked/hashed/encrypted ID numbers,
owner and team, `last_contact_at` and `next_follow_up_at` consistent with the interactions and open
tasks, version 1).

What it deliberately does not do:
- no django-simple-history rows for generated records (their history starts with the first edit);
- no services, signals or events per row: this is a loader, not a business action. Users, teams, tags
  and custom field definitions, a few hundred rows, are created through the ORM and services.

Ids are taken from ranges after each table's current maximum; PostgreSQL sequences are moved past the
new rows afterwards, so the app keeps inserting normally. Bench rows are recognised by their owner
(a `bench_user_NNN`); `bench_data_truncate` removes those and nothing else.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import connection, models, transaction

from guanxi.customers.demo import (
    BRANDS,
    CHANNEL_WEIGHTS,
    CITIES,
    COMPOUND_SURNAMES,
    FEMALE_GIVEN,
    INDUSTRIES,
    INTERACTION_BODIES,
    INTERACTION_SUBJECTS,
    INTERESTS,
    JOB_TITLES,
    MAIL_DOMAINS,
    MALE_GIVEN,
    MOBILE_PREFIXES,
    PREFERENCES,
    SOURCE_WEIGHTS,
    STAGE_WEIGHTS,
    STREETS,
    SURNAMES,
    TAGS,
    TASK_TITLES,
    TIMELESS_REGIONS,
    demo_uscc,
)
from guanxi.customers.models import ContactPoint, Customer, Interaction, Task
from guanxi.customers.models.choices import (
    Channel,
    CompanySize,
    Consent,
    ContactKind,
    CustomerKind,
    Direction,
    Gender,
    LifecycleStage,
    Outcome,
    TaskKind,
    TaskPriority,
    TaskStatus,
)
from guanxi.platform.annotations.models import Tag, TaggedItem
from guanxi.platform.core.cn_ids import complete_ric, mask_id_number, pii_encrypt, pii_hash
from guanxi.platform.core.errors import ValidationFailed
from guanxi.platform.core.names import PersonName
from guanxi.platform.core.phones import normalise_phone
from guanxi.platform.core.pinyin import full_pinyin, pinyin_initials
from guanxi.platform.customfields.models import CustomFieldDefinition, FieldType
from guanxi.platform.identity.models import Role, Team, User
from guanxi.platform.identity.roles import SALES_MANAGER, SALES_REP
from guanxi.platform.identity.services import roles_ensure_builtin, team_create

BENCH_USER_PREFIX = "bench_user_"
BENCH_PASSWORD = "guanxi-bench"
TEAM_COUNT = 20
USER_COUNT = 200
DEFAULT_BATCH = 50_000
DEFAULT_SEED = 1_000_000
HISTORY_DAYS = 730
CUSTOMER_TARGET = "customers.customer"
ORGANISATION_SHARE = 0.12
LATIN_NAME_SHARE = 0.10
# Share of people with a resident ID number. Each is really encrypted (Fernet), hashed and masked;
# at about 20 µs an encryption, 30% of a million people costs a few seconds.
ID_NUMBER_SHARE = 0.30
CARD_SHARE = 0.30
TAGGED_SHARE = 0.30
CUSTOM_FIELD_SHARE = 0.60
MAX_INTERACTIONS = 20  # uniform 0..20: 10 on average
MAX_TASKS = 3  # uniform 0..3: 1.5 on average

LATIN_GIVEN = (
    "James", "Mary", "John", "Linda", "Michael", "Sarah", "David", "Emma", "Thomas", "Anna",
    "Peter", "Laura", "Daniel", "Sophie", "Mark", "Julia", "Paul", "Claire", "Lucas", "Nina",
)  # fmt: skip
LATIN_FAMILY = (
    "Smith", "Johnson", "Brown", "Miller", "Wilson", "Moore", "Taylor", "Anderson", "Martin", "Lee",
    "Walker", "Hall", "Young", "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson",
)  # fmt: skip
LATIN_ORG_WORDS = ("Trading", "Technology", "Logistics", "Consulting", "Manufacturing", "Foods", "Capital")
LATIN_ORG_SUFFIXES = ("Co., Ltd.", "Ltd.", "Group Ltd.", "International Ltd.")
CUSTOM_FIELDS = (
    # (key, type, zh, en, choices)
    ("bench_level", FieldType.CHOICE, "客户级别", "Customer level", ("a", "b", "c")),
    ("bench_budget", FieldType.NUMBER, "年度预算", "Annual budget", ()),
    ("bench_signed_on", FieldType.DATE, "签约日期", "Signed on", ()),
    ("bench_newsletter", FieldType.BOOLEAN, "订阅简报", "Newsletter", ()),
)
OUTCOME_WEIGHTS = (
    (Outcome.REACHED, 30),
    (Outcome.NO_ANSWER, 10),
    (Outcome.INTERESTED, 20),
    (Outcome.NOT_INTERESTED, 8),
    (Outcome.FOLLOW_UP, 25),
    (Outcome.CLOSED, 7),
)
TASK_KINDS = (TaskKind.FOLLOW_UP, TaskKind.CALL, TaskKind.VISIT, TaskKind.EMAIL, TaskKind.MEETING)
LANDLINE_LABELS = ("总机", "办公电话")
DEAL_STAGES = frozenset((LifecycleStage.ACTIVE, LifecycleStage.LOYAL, LifecycleStage.WON_BACK))

# Columns written, per table, in order. `_check_columns` fails loudly when a model gains a column.
CUSTOMER_COLUMNS = (
    "id", "created_at", "updated_at", "version", "kind", "name", "family_name", "given_name", "name_pinyin",
    "name_initials", "organisation_id", "company_name", "job_title", "gender", "birthday", "id_number_masked",
    "id_number_hash", "id_number_encrypted", "uscc", "industry", "company_size", "website", "source",
    "card_number", "owner_id", "team_id", "owner_since", "pool_id", "pool_entered_at", "lifecycle_stage", "rating",
    "family_members", "preferences", "special_needs", "interests", "notes", "custom_fields", "last_contact_at",
    "next_follow_up_at", "last_deal_at", "created_by_id",
)  # fmt: skip
CONTACT_POINT_COLUMNS = (
    "id", "created_at", "updated_at", "version", "customer_id", "kind", "value", "raw_value", "search_key", "label",
    "is_primary", "verified", "consent", "consent_updated_at", "consent_source", "address",
)  # fmt: skip
INTERACTION_COLUMNS = (
    "id", "created_at", "updated_at", "version", "customer_id", "lead_id", "channel", "direction", "occurred_at",
    "subject", "body", "outcome", "duration_seconds", "user_id",
)  # fmt: skip
TASK_COLUMNS = (
    "id", "created_at", "updated_at", "version", "title", "description", "kind", "priority", "status", "due_at",
    "remind_at", "reminded_at", "assignee_id", "customer_id", "lead_id", "completed_at", "completed_by_id", "result",
    "created_by_id", "overdue_published_at",
)  # fmt: skip
TAGGED_ITEM_COLUMNS = ("id", "tag_id", "target", "object_id", "created_by_id", "created_at")

Progress = Callable[[str], None]


@dataclass
class BenchSummary:
    vendor: str
    customers: int
    seed: int
    batch: int
    seconds: float
    rows: dict[str, int] = field(default_factory=dict)
    seconds_by_step: dict[str, float] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        total = sum(self.rows.values())
        return {
            "vendor": self.vendor,
            "customers": self.customers,
            "seed": self.seed,
            "batch": self.batch,
            "seconds": round(self.seconds, 1),
            "rows": self.rows,
            "rows_total": total,
            "rows_per_second": round(total / self.seconds) if self.seconds else None,
            "seconds_by_step": {k: round(v, 1) for k, v in self.seconds_by_step.items()},
        }


def _check_columns(model: type[models.Model], columns: Sequence[str]) -> None:
    expected = {str(f.column) for f in model._meta.concrete_fields}
    if expected != set(columns):
        raise AssertionError(
            f"{model._meta.db_table}: the generator writes {sorted(set(columns) - expected)} "
            f"but misses {sorted(expected - set(columns))}; update guanxi.customers.scale_data"
        )


# --- the bench organisation -------------------------------------------------------------------------------


def bench_users() -> list[User]:
    return list(User.objects.filter(username__startswith=BENCH_USER_PREFIX).order_by("username"))


def bench_org_ensure() -> list[User]:
    """20 bench teams (a head office, 4 regions, 15 groups) and 200 users; the first of each team manages it."""
    existing = bench_users()
    if len(existing) >= USER_COUNT:
        return existing[:USER_COUNT]
    roles_ensure_builtin()
    roles = {role.code: role for role in Role.objects.filter(code__in=(SALES_MANAGER, SALES_REP))}
    teams = list(Team.objects.filter(name__startswith="Bench ").order_by("id"))
    if len(teams) < TEAM_COUNT:
        head = teams[0] if teams else team_create(actor=None, name="Bench 总部")
        teams = [head]
        regions = [team_create(actor=None, name=f"Bench 大区{n}", parent=head) for n in range(1, 5)]
        teams += regions
        teams += [
            team_create(actor=None, name=f"Bench 销售{n}组", parent=regions[n % 4])
            for n in range(1, TEAM_COUNT - len(teams) + 1)
        ]
    password = make_password(BENCH_PASSWORD)  # one slow hash shared by all bench users
    have = {user.username for user in existing}
    for index in range(1, USER_COUNT + 1):
        username = f"{BENCH_USER_PREFIX}{index:03d}"
        if username in have:
            continue
        team = teams[(index - 1) % TEAM_COUNT]
        manager = index <= TEAM_COUNT
        user = User.objects.create(
            username=username,
            password=password,
            display_name=f"压测用户{index:03d}",
            email=f"{username}@bench.guanxi.example",
            team=team,
            role=roles[SALES_MANAGER if manager else SALES_REP],
        )
        if manager:
            Team.objects.filter(pk=team.pk).update(manager=user)
    return bench_users()


def _tags_ensure() -> list[int]:
    return [Tag.objects.get_or_create(name=name, defaults={"color": color})[0].pk for name, color in TAGS]


def _custom_fields_ensure() -> None:
    for position, (key, field_type, zh, en, choices) in enumerate(CUSTOM_FIELDS, start=100):
        CustomFieldDefinition.objects.get_or_create(
            target=CUSTOMER_TARGET,
            key=key,
            defaults={
                "label_zh": zh,
                "label_en": en,
                "field_type": field_type,
                "choices": [{"value": c, "label_zh": c.upper(), "label_en": c.upper()} for c in choices],
                "position": position,
            },
        )


# --- writing rows -----------------------------------------------------------------------------------------


class _Writer:
    """COPY on PostgreSQL, executemany on SQLite; timestamps and booleans in each database's text form."""

    def __init__(self) -> None:
        self.vendor = connection.vendor
        self.postgres = self.vendor == "postgresql"
        self.tz_suffix = "+00" if self.postgres else ""

    def write(self, model: type[models.Model], columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        table = model._meta.db_table
        cols = ", ".join(connection.ops.quote_name(c) for c in columns)
        if self.postgres:
            with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(columns))
            connection.ensure_connection()
            raw = connection.connection.cursor()
            raw.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows)  # noqa: S608 (names from the models)  # nosec B608
            raw.close()

    def next_ids(self, models_: Iterable[type[models.Model]]) -> dict[type[models.Model], int]:
        ids = {}
        with connection.cursor() as cursor:
            for model in models_:
                cursor.execute(f"SELECT MAX(id) FROM {model._meta.db_table}")  # noqa: S608 (names from the models)  # nosec B608
                ids[model] = (cursor.fetchone()[0] or 0) + 1
        return ids

    def reset_sequences(self, models_: Iterable[type[models.Model]]) -> None:
        if not self.postgres:
            return  # SQLite's AUTOINCREMENT follows the largest id inserted
        with connection.cursor() as cursor:
            for model in models_:
                table = model._meta.db_table
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence(%s, 'id'), GREATEST((SELECT MAX(id) FROM {table}), 1))",  # noqa: S608 (names from the models)  # nosec B608
                    [table],
                )


# --- the generator ----------------------------------------------------------------------------------------


def _fast_randrange(rand: Callable[[], float]) -> Callable[..., int]:
    """randrange(stop) / randrange(start, stop) from one random() call: 5x faster than Random.randrange."""

    def randrange(start: int, stop: int | None = None) -> int:
        if stop is None:
            return int(rand() * start)
        return start + int(rand() * (stop - start))

    return randrange


def _expand(pairs: Sequence[tuple[Any, int]]) -> list[Any]:
    return [value for value, weight in pairs for _n in range(weight)]


class _Generator:
    """Makes the rows of one chunk of customers at a time; keeps the id counters between chunks."""

    def __init__(
        self, *, seed: int, users: list[User], tag_ids: list[int], writer: _Writer, interactions: bool
    ) -> None:
        self.rng = random.Random(seed)
        self.w = writer
        self.with_interactions = interactions
        self.users = [(u.pk, u.team_id) for u in users]
        self.tag_ids = tag_ids
        self.now = int(time.time())
        self.pinyin: dict[str, tuple[str, str, str, str]] = {}
        self.phone_blocks: dict[str, bool] = {}
        self.days: dict[int, str] = {}
        self.dates: dict[int, str] = {}
        self.ids = writer.next_ids((Customer, ContactPoint, Interaction, Task, TaggedItem))
        self.rows = {"customers": 0, "contact_points": 0, "interactions": 0, "tasks": 0, "tagged_items": 0}
        self.channels = _expand(CHANNEL_WEIGHTS)
        self.stages = _expand(STAGE_WEIGHTS)
        self.sources = _expand(SOURCE_WEIGHTS)
        self.outcomes = _expand(OUTCOME_WEIGHTS)
        self.sizes = [s for s in CompanySize.values if s]
        self.cities = [c for c in CITIES if self._landline_ok(c[4])]
        rng = self.rng
        self.custom_values = [self._custom_value(rng) for _n in range(512)]

    # values --------------------------------------------------------------------------------------------

    def ts(self, seconds: int) -> str:
        """A UTC timestamp in the text form both databases read."""
        day, rest = divmod(seconds, 86400)
        prefix = self.days.get(day)
        if prefix is None:
            prefix = self.days[day] = time.strftime("%Y-%m-%d", time.gmtime(day * 86400))
        return f"{prefix} {rest // 3600:02d}:{rest // 60 % 60:02d}:{rest % 60:02d}{self.w.tz_suffix}"

    def date(self, seconds: int) -> str:
        day = seconds // 86400
        text = self.dates.get(day)
        if text is None:
            text = self.dates[day] = time.strftime("%Y-%m-%d", time.gmtime(day * 86400))
        return text

    def names(self, name: str) -> tuple[str, str, str, str]:
        """(pinyin, initials, family name, given name), computed by the app's own functions, cached."""
        cached = self.pinyin.get(name)
        if cached is None:
            parsed = PersonName.parse(name)
            cached = self.pinyin[name] = (
                full_pinyin(name)[:400],
                pinyin_initials(name)[:100],
                parsed.family,
                parsed.given,
            )
        return cached

    def org_names(self, name: str) -> tuple[str, str]:
        cached = self.pinyin.get(name)
        if cached is None:
            cached = self.pinyin[name] = (full_pinyin(name)[:400], pinyin_initials(name)[:100], "", "")
        return cached[0], cached[1]

    def _valid(self, digits: str, block: str) -> bool:
        """Whether numbers of this block are valid; one phonenumbers check per block (prefix of the number)."""
        ok = self.phone_blocks.get(block)
        if ok is None:
            try:
                ok = normalise_phone("+86" + digits).e164 == "+86" + digits
            except ValidationFailed:
                ok = False
            self.phone_blocks[block] = ok
        return ok

    def _landline_ok(self, area: str) -> bool:
        return self._valid(f"{area}62345678", f"{area}-62")

    def mobile(self, point_id: int) -> str:
        """A valid mobile number, unique per contact point id (a bijection of the id onto 8 digits)."""
        tail = f"{(point_id * 48271 + 12345) % 100_000_000:08d}"
        prefixes = MOBILE_PREFIXES
        start = point_id % len(prefixes)
        for step in range(len(prefixes)):
            prefix = prefixes[(start + step) % len(prefixes)]
            digits = prefix + tail
            if self._valid(digits, digits[:7]):
                return "+86" + digits
        raise AssertionError(f"no valid mobile prefix for {tail}")

    def landline(self, point_id: int, area: str) -> str:
        tail = f"{(point_id * 48271 + 777) % 10_000_000:07d}"
        for first in "62345789":
            digits = f"{area}{first}{tail}"
            if self._valid(digits, f"{area}-{first}{tail[:2]}"):
                return "+86" + digits
        raise AssertionError(f"no valid landline in {area}")

    def id_number(self, birthday: str, male: bool) -> tuple[str, str, str]:
        rng = self.rng
        sequence = rng.randrange(0, 1000)
        if (sequence % 2 == 1) != male:  # the 17th digit is odd for men, even for women
            sequence = (sequence + 1) % 1000
        region = TIMELESS_REGIONS[rng.randrange(len(TIMELESS_REGIONS))]  # valid for any birth year
        number = complete_ric(f"{region}{birthday.replace('-', '')}{sequence:03d}")
        return mask_id_number(number), pii_hash(number), pii_encrypt(number)

    def _custom_value(self, rng: random.Random) -> str:
        values: dict[str, Any] = {}
        if rng.random() < 0.9:
            values["bench_level"] = rng.choice("abc")
        if rng.random() < 0.6:
            values["bench_budget"] = str(rng.randrange(10, 5000) * 1000)
        if rng.random() < 0.5:
            values["bench_signed_on"] = self.date(self.now - rng.randrange(HISTORY_DAYS * 86400))
        if rng.random() < 0.5:
            values["bench_newsletter"] = rng.random() < 0.5
        return json.dumps(values)

    # one chunk -----------------------------------------------------------------------------------------

    def chunk(self, count: int) -> dict[str, list[tuple[Any, ...]]]:
        rng, now, ts, w = self.rng, self.now, self.ts, self.w
        rand = rng.random
        randrange = _fast_randrange(rand)
        postgres = w.postgres
        yes, no = (True, False) if postgres else (1, 0)
        customers: list[tuple[Any, ...]] = []
        points: list[tuple[Any, ...]] = []
        interactions: list[tuple[Any, ...]] = []
        tasks: list[tuple[Any, ...]] = []
        tagged: list[tuple[Any, ...]] = []
        ids = self.ids
        cid, pid, iid, tid, gid = ids[Customer], ids[ContactPoint], ids[Interaction], ids[Task], ids[TaggedItem]
        users, cities, channels = self.users, self.cities, self.channels
        orgs: list[tuple[int, str, str, int, int | None, str]] = []  # id, name, industry, owner, team, domain
        org_count = int(count * ORGANISATION_SHARE) if count >= 5 else 0
        for index in range(count):
            is_org = index < org_count
            city = cities[randrange(len(cities))]
            created = now - randrange(86400, HISTORY_DAYS * 86400)
            owner_id, team_id = users[randrange(len(users))]
            stage = self.stages[randrange(len(self.stages))]
            kind = CustomerKind.ORGANISATION if is_org else CustomerKind.PERSON
            family = given = company = job = gender = industry = size = website = uscc = card = ""
            birthday = None
            masked = hashed = encrypted = ""
            organisation_id = None
            domain = ""
            if is_org:
                brand, brand_pinyin = BRANDS[randrange(len(BRANDS))]
                industry, word, word_pinyin = INDUSTRIES[randrange(len(INDUSTRIES))]
                if rand() < LATIN_NAME_SHARE:
                    name = (
                        f"{brand_pinyin.title()} {LATIN_ORG_WORDS[randrange(len(LATIN_ORG_WORDS))]} "
                        f"{LATIN_ORG_SUFFIXES[randrange(len(LATIN_ORG_SUFFIXES))]}"
                    )
                else:
                    name = f"{city[1].removesuffix('市')}{brand}{word}{'股份' if rand() < 0.3 else ''}有限公司"
                pinyin, initials = self.org_names(name)
                uscc = demo_uscc(rng, city[3])
                size = self.sizes[randrange(len(self.sizes))]
                domain = f"{brand_pinyin}{word_pinyin}{cid % 1000}.com.cn"
                website = f"https://www.{domain}"
                orgs.append((cid, name, industry, owner_id, team_id, domain))
            else:
                male = rand() < 0.5
                if rand() < LATIN_NAME_SHARE:
                    name = f"{LATIN_GIVEN[randrange(20)]} {LATIN_FAMILY[randrange(20)]}"
                else:
                    surname = COMPOUND_SURNAMES[randrange(4)] if rand() < 0.01 else SURNAMES[randrange(len(SURNAMES))]
                    pool = MALE_GIVEN if male else FEMALE_GIVEN
                    name = surname + pool[randrange(len(pool))] + (pool[randrange(len(pool))] if rand() < 0.55 else "")
                pinyin, initials, family, given = self.names(name)
                gender = Gender.MALE if male else Gender.FEMALE
                if rand() < 0.7:
                    birthday = f"{randrange(1960, 2004)}-{randrange(1, 13):02d}-{randrange(1, 29):02d}"
                    if rand() < ID_NUMBER_SHARE / 0.7:
                        masked, hashed, encrypted = self.id_number(birthday, male)
                if rand() < CARD_SHARE:
                    card = f"BENCH{cid:010d}"
                if orgs and rand() < 0.4:
                    organisation_id, company, industry, org_owner, org_team, domain = orgs[randrange(len(orgs))]
                    job = JOB_TITLES[randrange(len(JOB_TITLES))]
                    if rand() < 0.8:  # the account's owner
                        owner_id, team_id = org_owner, org_team
            # contact points: 3..7 (5 on average), the first of each kind is primary
            kinds = self._point_kinds(is_org, bool(domain))
            for n, (point_kind, label, primary) in enumerate(kinds[: 3 + randrange(5)]):
                if point_kind == ContactKind.PHONE:
                    value = self.landline(pid, city[4]) if label in LANDLINE_LABELS else self.mobile(pid)
                    key = value[1:][::-1]
                    address = "{}"
                elif point_kind == ContactKind.EMAIL:
                    local = (
                        ("info", "sales", "contact", "service")[n % 4]
                        if is_org
                        else f"{pinyin or 'kehu'}{'.' if n > 2 else ''}{randrange(1, 1000)}"
                    )
                    value = key = f"{local}@{domain if domain and rand() < 0.6 else MAIL_DOMAINS[randrange(7)]}"
                    address = "{}"
                elif point_kind == ContactKind.WECHAT:
                    value = f"{pinyin or 'wx'}_{cid % 100000}{n}"
                    key = value.lower()
                    address = "{}"
                else:
                    streets = STREETS[city[1]]
                    street = f"{streets[randrange(len(streets))]}{randrange(1, 1000)}号"
                    if n > 4:
                        street += f"{randrange(1, 31)}栋{randrange(1, 29)}{randrange(1, 10):02d}室"
                    parts = {"province": city[0]}
                    if city[1] != city[0]:
                        parts["city"] = city[1]
                    parts.update(district=city[2], street=street, postcode=city[5])
                    value = f"{city[0]}{parts.get('city', '')}{city[2]}{street} {city[5]}"
                    key = value.lower()
                    address = json.dumps(parts, ensure_ascii=False)
                consent = Consent.GRANTED if rand() < 0.5 else (Consent.UNKNOWN if rand() < 0.8 else Consent.WITHDRAWN)
                asked = consent != Consent.UNKNOWN
                when = ts(created)
                points.append(
                    (pid, when, when, 1, cid, point_kind, value, value, key, label, yes if primary else no,
                     yes if rand() < 0.4 else no, consent, when if asked else None, "bench" if asked else "", address)
                )  # fmt: skip
                pid += 1
            # interactions between creation and now; the latest is the last contact
            last_contact = None
            if self.with_interactions:
                quiet = 90 * 86400 if stage in (LifecycleStage.DORMANT, LifecycleStage.CHURNED) else 0
                span = now - created - quiet
                for _n in range(randrange(MAX_INTERACTIONS + 1) if span > 0 else 0):
                    occurred = created + randrange(span)
                    channel = channels[randrange(len(channels))]
                    note = channel == Channel.NOTE
                    direction = (
                        Direction.INTERNAL if note else (Direction.OUTBOUND if rand() < 0.7 else Direction.INBOUND)
                    )
                    subjects = INTERACTION_SUBJECTS[channel]
                    when = ts(occurred)
                    interactions.append(
                        (iid, when, when, 1, cid, None, channel, direction, when, subjects[randrange(len(subjects))],
                         INTERACTION_BODIES[randrange(len(INTERACTION_BODIES))],
                         "" if note else self.outcomes[randrange(len(self.outcomes))],
                         randrange(30, 1800) if channel == Channel.CALL else None, owner_id)
                    )  # fmt: skip
                    iid += 1
                    if last_contact is None or occurred > last_contact:
                        last_contact = occurred
            # tasks: done and cancelled in the past, open ones overdue or upcoming; the earliest open is next
            next_follow_up = None
            for _n in range(randrange(MAX_TASKS + 1)):
                roll = rand()
                status = TaskStatus.OPEN if roll < 0.35 else (TaskStatus.DONE if roll < 0.9 else TaskStatus.CANCELLED)
                if status == TaskStatus.OPEN:
                    due = now + randrange(-10 * 86400, 30 * 86400)
                    next_follow_up = due if next_follow_up is None else min(next_follow_up, due)
                else:
                    due = now - randrange(86400, max(2 * 86400, now - created))
                task_created = max(created, min(due - randrange(86400, 7 * 86400), now))
                remind = due - 1800
                done = status == TaskStatus.DONE
                tasks.append(
                    (tid, ts(task_created), ts(task_created), 1,
                     TASK_TITLES[randrange(len(TASK_TITLES))].format(name=name)[:200], "",
                     TASK_KINDS[randrange(len(TASK_KINDS))],
                     TaskPriority.NORMAL if rand() < 0.6 else (TaskPriority.HIGH if rand() < 0.5 else TaskPriority.LOW),
                     status, ts(due), ts(remind), ts(remind) if remind < now or status != TaskStatus.OPEN else None,
                     owner_id, cid, None, ts(due) if done else None, owner_id if done else None,
                     "已完成，客户反馈良好。" if done else "", owner_id, ts(due) if due < now else None)
                )  # fmt: skip
                tid += 1
            if rand() < TAGGED_SHARE:
                first = randrange(len(self.tag_ids))
                for offset in range(1 + (rand() < 0.3)):
                    tag_id = self.tag_ids[(first + offset) % len(self.tag_ids)]
                    tagged.append((gid, tag_id, CUSTOMER_TARGET, cid, owner_id, ts(created)))
                    gid += 1
            soft = not is_org and rand() < 0.5
            created_text = ts(created)
            customers.append(
                (cid, created_text, created_text, 1, kind, name, family, given, pinyin, initials, organisation_id,
                 company, job, gender, birthday, masked, hashed, encrypted, uscc, industry, size, website,
                 self.sources[randrange(len(self.sources))], card, owner_id, team_id, created_text, None, None, stage,
                 randrange(6), "[]", PREFERENCES[randrange(len(PREFERENCES))] if soft else "", "",
                 INTERESTS[randrange(len(INTERESTS))] if soft else "", "",
                 self.custom_values[randrange(512)] if rand() < CUSTOM_FIELD_SHARE else "{}",
                 ts(last_contact) if last_contact is not None else None,
                 ts(next_follow_up) if next_follow_up is not None else None,
                 ts(now - randrange(86400, 365 * 86400)) if stage in DEAL_STAGES else None, owner_id)
            )  # fmt: skip
            cid += 1
        ids[Customer], ids[ContactPoint], ids[Interaction], ids[Task], ids[TaggedItem] = cid, pid, iid, tid, gid
        return {
            "customers": customers,
            "contact_points": points,
            "interactions": interactions,
            "tasks": tasks,
            "tagged_items": tagged,
        }

    def _point_kinds(self, is_org: bool, has_company: bool) -> list[tuple[str, str, bool]]:
        """The contact points a customer may have, most likely first; the caller keeps 3 to 7 of them."""
        if is_org:
            return [
                (ContactKind.PHONE, "总机", True),
                (ContactKind.EMAIL, "公司邮箱", True),
                (ContactKind.ADDRESS, "办公地址", True),
                (ContactKind.PHONE, "销售热线", False),
                (ContactKind.EMAIL, "销售邮箱", False),
                (ContactKind.WECHAT, "公众号", True),
                (ContactKind.ADDRESS, "仓库地址", False),
            ]
        return [
            (ContactKind.PHONE, "手机", True),
            (ContactKind.EMAIL, "邮箱", True),
            (ContactKind.WECHAT, "微信", True),
            (ContactKind.PHONE, "办公电话" if has_company else "备用", False),
            (ContactKind.ADDRESS, "家庭住址", True),
            (ContactKind.EMAIL, "工作邮箱", False),
            (ContactKind.ADDRESS, "公司地址", False),
        ]


# --- entry points -----------------------------------------------------------------------------------------

WRITTEN = (
    ("customers", Customer, CUSTOMER_COLUMNS),
    ("contact_points", ContactPoint, CONTACT_POINT_COLUMNS),
    ("interactions", Interaction, INTERACTION_COLUMNS),
    ("tasks", Task, TASK_COLUMNS),
    ("tagged_items", TaggedItem, TAGGED_ITEM_COLUMNS),
)


def _quiet(progress: Progress | None) -> Progress:
    return progress or (lambda _message: None)


def bench_data_generate(
    *,
    customers: int,
    seed: int = DEFAULT_SEED,
    batch: int = DEFAULT_BATCH,
    interactions: bool = True,
    truncate: bool = False,
    progress: Progress | None = None,
) -> BenchSummary:
    """Generate `customers` bench customers with their contact points, interactions, tasks and tags."""
    say = _quiet(progress)
    for _key, model, columns in WRITTEN:
        _check_columns(model, columns)
    started = time.monotonic()
    steps: dict[str, float] = {}
    if truncate:
        removed = bench_data_truncate()
        steps["truncate"] = time.monotonic() - started
        say(f"removed earlier bench rows: {removed}")
    mark = time.monotonic()
    users = bench_org_ensure()
    tag_ids = _tags_ensure()
    _custom_fields_ensure()
    steps["setup"] = time.monotonic() - mark
    writer = _Writer()
    generator = _Generator(seed=seed, users=users, tag_ids=tag_ids, writer=writer, interactions=interactions)
    steps["generate"] = steps["write"] = 0.0
    sqlite_sync = _sqlite_fast_start(writer)
    try:
        done = 0
        while done < customers:
            count = min(batch, customers - done)
            mark = time.monotonic()
            rows = generator.chunk(count)
            generated = time.monotonic()
            with transaction.atomic():
                for key, model, columns in WRITTEN:
                    writer.write(model, columns, rows[key])
                    generator.rows[key] += len(rows[key])
            steps["generate"] += generated - mark
            steps["write"] += time.monotonic() - generated
            done += count
            elapsed = time.monotonic() - started
            say(f"{done:,}/{customers:,} customers, {sum(generator.rows.values()):,} rows, {elapsed:.1f} s")
    finally:
        _sqlite_fast_end(writer, sqlite_sync)
    mark = time.monotonic()
    writer.reset_sequences(model for _key, model, _columns in WRITTEN)
    if writer.postgres:
        with connection.cursor() as cursor:
            for _key, model, _columns in WRITTEN:
                cursor.execute(f"ANALYZE {model._meta.db_table}")
    steps["finish"] = time.monotonic() - mark
    return BenchSummary(
        vendor=writer.vendor,
        customers=customers,
        seed=seed,
        batch=batch,
        seconds=time.monotonic() - started,
        rows=dict(generator.rows),
        seconds_by_step=steps,
    )


def _sqlite_fast_start(writer: _Writer) -> str | None:
    """No fsync during the load (a crash loses only bench data); not possible inside a transaction (tests)."""
    if writer.postgres or connection.in_atomic_block:
        return None
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous")
        previous = str(cursor.fetchone()[0])
        cursor.execute("PRAGMA synchronous=OFF")
    return previous


def _sqlite_fast_end(writer: _Writer, previous: str | None) -> None:
    if previous is not None:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA synchronous={int(previous)}")


def bench_data_truncate() -> dict[str, int]:
    """Delete the customers owned by bench users and every row that hangs off them; nothing else.

    Set-based SQL (a million customers would not fit through the ORM's cascade collector): rows that
    point at a bench customer are deleted (CASCADE) or unlinked (SET_NULL); tags, notes and attachments
    on them go too. No history rows are written for the deletion, as none were for the generation.
    """
    user_ids = [u.pk for u in bench_users()]
    if not user_ids:
        return {}
    table = Customer._meta.db_table
    owners = ", ".join(str(int(pk)) for pk in user_ids)
    bench = f"SELECT id FROM {table} WHERE owner_id IN ({owners})"  # noqa: S608 (names from the models)  # nosec B608
    removed: dict[str, int] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        for relation in Customer._meta.related_objects:
            if relation.many_to_many or relation.on_delete is None:
                continue
            related = relation.related_model._meta.db_table
            column = relation.field.column
            if relation.on_delete is models.CASCADE:
                cursor.execute(f"DELETE FROM {related} WHERE {column} IN ({bench})")  # noqa: S608 (names from the models)  # nosec B608
                removed[related] = cursor.rowcount
            elif relation.on_delete is models.SET_NULL:
                cursor.execute(f"UPDATE {related} SET {column} = NULL WHERE {column} IN ({bench})")  # noqa: S608 (names from the models)  # nosec B608
        for model in _records_on_customers():
            cursor.execute(
                f"DELETE FROM {model._meta.db_table} WHERE target = %s AND object_id IN ({bench})",  # noqa: S608  # nosec B608
                [CUSTOMER_TARGET],
            )
            removed[model._meta.db_table] = cursor.rowcount
        cursor.execute(f"DELETE FROM {table} WHERE owner_id IN ({owners})")  # noqa: S608 (names from the models)  # nosec B608
        removed[table] = cursor.rowcount
    return removed


def _records_on_customers() -> list[type[models.Model]]:
    from guanxi.platform.annotations.models import Attachment, Note

    return [TaggedItem, Note, Attachment]
