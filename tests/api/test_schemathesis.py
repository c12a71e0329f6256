"""The API against its own OpenAPI document (schemathesis): generated requests, valid and invalid, on every
operation, with every check schemathesis has.

Every answer must be declared in the schema (status, content type, headers, body), no request may crash the
server, invalid data must be refused with a documented 4xx, and schema-valid data must be accepted, except
where the API checks something the schema cannot state (`BEYOND_THE_SCHEMA`, each with its reason).

The requests run in-process against the WSGI application, as an administrator's API token with every scope,
so that permissions refuse nothing and each request reaches the code that parses and validates it. Half of
the generated ids are replaced by ids of real records (`FuzzWorld`), and the If-Match header of an update by
the record's real version, so updates are really applied and not all refused with 404 or 412. Each example
runs in a savepoint that is rolled back: every example sees the same records, and nothing stays behind.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import CheckContext, GenerationMode

from guanxi.customers.models.choices import CustomerKind
from guanxi.customers.services.customers import customer_create
from guanxi.customers.services.interactions import interaction_log
from guanxi.customers.services.leads import lead_create
from guanxi.customers.services.pool import customer_return_to_pool, pool_save
from guanxi.customers.services.tasks import task_create
from guanxi.platform.annotations.models import Tag
from guanxi.platform.annotations.services import attachment_add, note_add, tag_save, tags_assign
from guanxi.platform.customfields.services import custom_field_save
from guanxi.platform.identity.services import api_token_create, token_scope_choices
from tests.factories import actor

CUSTOMER = "customers.customer"
PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
# Examples per operation: 67 operations take one to two minutes on two cores. GUANXI_FUZZ_EXAMPLES=200 for a
# deeper search (the examples are derandomised, so CI sees the same requests every run unless it is raised).
MAX_EXAMPLES = int(os.environ.get("GUANXI_FUZZ_EXAMPLES", "12"))
DEEP_SEARCH = "GUANXI_FUZZ_EXAMPLES" in os.environ


@dataclass(frozen=True)
class FuzzWorld:
    """Real records the generated requests may name: path parameter -> (id, version)."""

    secret: str
    records: dict[str, tuple[int, int]]
    targets: dict[int, str]  # object id -> its annotation target


@pytest.fixture
def fuzz_world(org: Any) -> FuzzWorld:
    admin = actor(org.admin)
    tag = tag_save(actor=admin, tag=None, name="重点客户", color=Tag.Color.RED)
    pool = pool_save(actor=admin, data={"name": "公司公海", "team_id": None})
    definition = custom_field_save(
        actor=admin,
        definition=None,
        target=CUSTOMER,
        key="region",
        label_zh="区域",
        label_en="Region",
        field_type="text",
    )
    organisation = customer_create(actor=admin, data={"kind": CustomerKind.ORGANISATION, "name": "翠屏山茶业有限公司"})
    person = customer_create(
        actor=admin,
        data={
            "name": "欧阳翠屏",
            "organisation_id": organisation.pk,
            "contact_points": [
                {"kind": "phone", "value": "13987651234"},
                {"kind": "email", "value": "cuiping@example.com"},
            ],
        },
    )
    lead = lead_create(actor=admin, data={"name": "慕容秋水", "phone": "13712340987"})
    interaction = interaction_log(actor=admin, customer=person, data={"channel": "call", "subject": "电话回访"})
    task = task_create(
        actor=admin,
        data={"title": "续约跟进", "customer_id": person.pk, "due_at": timezone.now() + dt.timedelta(days=3)},
    )
    note = note_add(actor=admin, target=CUSTOMER, object_id=person.pk, body="底价九折")
    tags_assign(actor=admin, target=CUSTOMER, object_ids=[person.pk], tag_id=tag.pk)
    attachment = attachment_add(
        actor=admin,
        target=CUSTOMER,
        object_id=person.pk,
        uploaded_file=SimpleUploadedFile("报价单.pdf", PDF_BYTES, content_type="application/pdf"),
    )
    pooled = customer_create(actor=admin, data={"name": "上官飞燕"})
    pooled = customer_return_to_pool(actor=admin, customer=pooled, reason="没有需求")
    token, secret = api_token_create(actor=admin, name="fuzz", scopes=token_scope_choices(), expires_at=None)
    person.refresh_from_db()
    records = {
        "customer_id": (person.pk, person.version),
        "organisation_id": (organisation.pk, organisation.version),
        "point_id": (person.contact_points.order_by("pk").first().pk, 1),  # type: ignore[union-attr]
        "lead_id": (lead.pk, lead.version),
        "interaction_id": (interaction.pk, interaction.version),
        "task_id": (task.pk, task.version),
        "note_id": (note.pk, note.version),
        "attachment_id": (attachment.pk, 1),
        "tag_id": (tag.pk, tag.version),
        "pool_id": (pool.pk, pool.version),
        "definition_id": (definition.pk, definition.version),
        "object_id": (person.pk, person.version),
        "user_id": (org.rep_north.pk, 1),
        "team_id": (org.north.pk, 1),
        "token_id": (token.pk, 1),
    }
    return FuzzWorld(secret=secret, records=records, targets={person.pk: CUSTOMER})


def _token_auth(secret: str) -> type:
    """An auth provider sending the administrator's token."""

    class TokenAuth:
        def get(self, case: Any, context: Any) -> str:
            return secret

        def set(self, case: Any, data: str, context: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    return TokenAuth


@pytest.fixture
def api_schema(fuzz_world: FuzzWorld) -> Iterator[Any]:
    """The schema as the running application serves it (custom fields included), requests sent in-process.
    Like Django's test client, the requests keep the test's database connection open."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        loaded = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", WSGIHandler())
        loaded.config.generation.update(
            modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], max_examples=MAX_EXAMPLES
        )
        # The token is the only credential, given as explicit auth: schemathesis invents no session cookie
        # next to it, and its ignored_auth check knows what to take away to see the request refused.
        loaded.config.generation.update(with_security_parameters=False)
        loaded.auth(_token_auth(fuzz_world.secret), refresh_interval=None)
        # Replaced by schema_valid_data_is_accepted below, which knows what the schema cannot say.
        loaded.config.checks.update(excluded_check_names=["positive_data_acceptance"])
        yield loaded
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request: Any) -> None:
    """schemathesis 4.32 renames the pytest item through `_nodeid`, which pytest 9.2 no longer has."""
    request.node._nodeid = request.node.nodeid


schema = schemathesis.pytest.from_fixture("api_schema")


def _use_real_records(case: Any, world: FuzzWorld, data: st.DataObject) -> None:
    """Replace some generated ids by real records' ids, and the If-Match header by their version."""
    path = case.path_parameters or {}
    named = None
    for name, value in list(path.items()):
        generated_id = name in world.records and isinstance(value, int) and not isinstance(value, bool)
        if generated_id and data.draw(st.booleans(), label=f"real {name}"):
            path[name] = world.records[name][0]
            named = name
    target_of_real_record = "target" in path and path.get("object_id") in world.targets
    if target_of_real_record and data.draw(st.booleans(), label="real target"):
        path["target"] = world.targets[path["object_id"]]
    headers = case.headers or {}
    if named is not None and "If-Match" in headers and data.draw(st.booleans(), label="real version"):
        headers["If-Match"] = f'"{world.records[named][1]}"'


# Fields whose validity depends on more than the schema can state. A schema-valid request may be refused
# with 422 when every field the error names is one of these; anything else is a schema that promises too much.
BEYOND_THE_SCHEMA: dict[str, str] = {
    "cursor": "a cursor is the next_cursor of an earlier page, not any string",
    "steps": "an approval step needs a role, a user or a manager by its kind, which the schema cannot say",
    "comment": "required to reject or return, and must hold visible text",
    "process_id": "must name an active approval process for that kind of record",
    "url": "a webhook URL needs a host the installation allows (https in production, no private addresses)",
    "subject": "an email needs a subject unless its template gives one",
    "to_address": "must be an address of the record for that channel",
    "template_id": "must name an active template for that channel",
    "subject_zh": "merge fields must exist and the template must parse",
    "subject_en": "merge fields must exist and the template must parse",
    "body_zh": "merge fields must exist and the template must parse",
    "body_en": "merge fields must exist and the template must parse",
    "provider_params": "one name = text per line, with merge fields that exist",
    "provider_template_id": "required for WeChat templates",
    "quiet_end": "must differ from the start of the quiet hours",
    "quiet_time_zone": "must be a time zone name such as Asia/Shanghai",
    "address": "a phone or an email address, checked against numbering plans and address rules",
    "record_id": "must name a record of `record_type` that the caller may see",
    "trigger_config": "the settings of a trigger depend on its kind and the record type's fields",
    "conditions": "condition fields, operators and values depend on the record type",
    "actions": "action parameters depend on the action type and must name existing things",
    "definition": "a rule definition is checked like a saved rule",
    "If-Match": 'the version the client read, such as "3"; the schema cannot say which versions exist',
    "version": "when both are sent, the body's version must equal the If-Match header's",
    "customer_id": "must name a customer that exists and that the caller may see",
    "customer_ids": "must name customers that exist and that the caller may see",
    "lead_id": "must name a lead that exists and that the caller may see",
    "organisation_id": "must name an organisation the caller may see",
    "owner_id": "must name an active user",
    "assignee_id": "must name an active user who may see the task's customer or lead",
    "from_user_id": "must name a user",
    "to_user_id": "must name an active user",
    "to_pool_id": "must name an active pool",
    "team_id": "must name a team",
    "pool_id": "must name a pool",
    "tag_id": "must name a tag",
    "value": "a phone, email or WeChat ID is checked against numbering plans and address rules",
    "phone": "a phone number is checked against numbering plans; a lead needs one way to reach it",
    "email": "an email address is checked by the address rules",
    "wechat": "a WeChat ID is checked by WeChat's rules",
    "website": "a web address must have a host",
    "id_number": "a resident ID number has a check digit and a birth date",
    "uscc": "a unified social credit code has a check character",
    "name": "names must keep some visible text after spaces and control characters are removed",
    "title": "titles must keep some visible text after clean-up",
    "label_zh": "labels must keep some visible text after clean-up",
    "label_en": "labels must keep some visible text after clean-up",
    "is_active": "the default pool must stay active",
    "reason": "reasons must keep some visible text after clean-up",
    "body": "notes must keep some visible text after clean-up",
    "q": "a search needs some visible text after clean-up",
    "key": "a custom field key must be unused",
    "choices": "choice fields need choices, other types none",
    "birthday": "a birthday lies between 1900 and today",
    "due_at": "due times lie between 1900 and 2999",
    "remind_at": "a reminder comes at or before the due time",
    "occurred_at": "an interaction cannot lie more than 5 minutes in the future",
    "file": "an attachment's type is read from its name and its first bytes",
    "custom_fields": "custom field values are checked by their definitions",
}


def _names_beyond_the_schema(field: str) -> bool:
    """`contact_points[0].value` and `custom_fields.tier` are judged by their last part and their root."""
    last = field.rsplit(".", 1)[-1].split("[", 1)[0]
    root = field.split(".", 1)[0].split("[", 1)[0]
    return last in BEYOND_THE_SCHEMA or root in BEYOND_THE_SCHEMA


def schema_valid_data_is_accepted(ctx: CheckContext, response: Any, case: Any) -> bool | None:
    """schemathesis' positive_data_acceptance, knowing what the schema cannot say: a schema-valid request
    answers 2xx, or 401/403/404/409 (state and permissions), or 412/428 (the version: see docs/api.md), or
    422 naming only fields in BEYOND_THE_SCHEMA."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code < 400:
        return None
    if response.status_code in (401, 403, 404, 409, 412, 428):
        return None
    if response.status_code == 422:
        fields = response.json()["error"]["fields"]
        unexpected = [f for f in fields if not _names_beyond_the_schema(f)]
        if fields and not unexpected:
            return None
        raise AssertionError(f"Schema-valid data refused for {unexpected or 'no field'}: {response.text[:300]}")
    raise AssertionError(f"Schema-valid data refused with {response.status_code}: {response.text[:300]}")


@schema.given(data=st.data())
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=not DEEP_SEARCH,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_as_its_schema_says(case: Any, data: st.DataObject, fuzz_world: FuzzWorld) -> None:
    _use_real_records(case, fuzz_world, data)
    with transaction.atomic():
        case.call_and_validate(additional_checks=[schema_valid_data_is_accepted])
        transaction.set_rollback(True)
