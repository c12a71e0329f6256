"""The permission matrix (issue 2, points 22 and 23): no page and no API route lets a rep reach another
rep's records by changing an id, and a refused request writes nothing.

The routes are discovered, not listed: every URL pattern with a parameter, the annotation panels (addressed
by ?target=&object_id=), and every operation of the OpenAPI document with path parameters, `*_id` query
filters or `*_id(s)` body fields. Each parameter name is mapped to rep_south's records of that kind
(OWNED_PARAMETERS) or exempted with the reason it names a shared thing (EXEMPT_PARAMETERS,
EXEMPT_BODY_FIELDS, QUERY_REFERENCES); a new route with an unknown parameter fails
`test_every_id_parameter_is_mapped_or_exempt` until someone decides which it is.

rep_north (a session for pages, an API token with every scope for the API) then asks for rep_south's records
on every route with every method it serves, once with each of rep_south's ids among rep_north's own ids
(so a route that checks only its first id is caught) and once with all of rep_south's. Every answer must:
- be 404, or a status listed with its reason (EXPECTED_STATUS), or 405 when the view refuses the method
  before it reads any id;
- be exactly what the same request answers for an id that does not exist (nobody learns what exists);
- show none of rep_south's texts (`World.secrets`: names, phones, note, file name...);
- leave the database exactly as it was: every row of every guanxi table, history included (nothing
  half-written).
Each test collects every problem and reports them all at once.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.resolvers import RoutePattern

from guanxi.config.api import api
from guanxi.platform.annotations import registry as annotation_registry
from guanxi.platform.core.pinyin import full_pinyin, pinyin_initials
from guanxi.platform.search.services import global_search
from tests.factories import actor
from tests.security.conftest import PDF_BYTES, SOUTH_NAMES, SOUTH_POOL_CUSTOMER, World

API_ROOT = "/api/v1"
MISSING_ID = 987_654_321
FILLER = "north was here"
Response = Any  # what the test client answers (an Response with the test client's additions)
Request = Callable[[], Response]

# --- which parameter names what ------------------------------------------------------------------------------

# Parameter name -> the kinds of rep_south's records it is tried with (attributes of `Side` in conftest.py,
# or "pool_customer"). rep_north's record of the first kind fills the parameter when another one is foreign.
OWNED_PARAMETERS: dict[str, tuple[str, ...]] = {
    "customer_id": ("person", "organisation", "pool_customer"),
    "point_id": ("contact_point",),
    "lead_id": ("lead",),
    "interaction_id": ("interaction",),
    "task_id": ("task",),
    "note_id": ("note",),
    "attachment_id": ("attachment",),
    "view_id": ("saved_view",),
    "token_id": ("token",),
    "notification_id": ("notification",),
    "message_id": ("message",),
    "inbound_message_id": ("inbound_message",),
    "request_id": ("approval_request",),
    "organisation_id": ("organisation",),
    # /records/{target}/{object_id}/ and ?target=&object_id=: `target` follows the record's annotated type.
    "object_id": ("person", "organisation", "lead"),
    # ?record_type=&record_id= (messages, rule runs, dry runs, previews): the record of that type.
    "record_id": ("person",),
}

SETTINGS_GUARD = "see test_settings_refuse_reps"


@dataclass(frozen=True)
class Exempt:
    """A parameter that names a shared thing, not a rep's record; `record` is what the requests name."""

    reason: str
    record: Callable[[World], Any]

    def value(self, world: World) -> int:
        pk: int = self.record(world).pk
        return pk


EXEMPT_PARAMETERS: dict[str, Exempt] = {
    "tag_id": Exempt(
        f"tags are shared by everyone (every list filters by them); changing one needs tags.manage: {SETTINGS_GUARD}",
        lambda w: w.tag,
    ),
    "pool_id": Exempt(
        f"pools are company settings; changing one needs pool.manage: {SETTINGS_GUARD}", lambda w: w.company_pool
    ),
    "user_id": Exempt(
        f"users are shared (owners, assignees); editing one needs identity.manage: {SETTINGS_GUARD}",
        lambda w: w.org.rep_south,
    ),
    "team_id": Exempt(f"teams are settings guarded by identity.manage: {SETTINGS_GUARD}", lambda w: w.org.south),
    "role_id": Exempt(
        f"roles are settings guarded by identity.manage: {SETTINGS_GUARD}", lambda w: w.org.rep_south.role
    ),
    "definition_id": Exempt(
        f"custom field definitions are shared; changing one needs customfields.manage: {SETTINGS_GUARD}",
        lambda w: w.definition,
    ),
    "template_id": Exempt(
        f"message templates are shared; changing one needs messages.manage_templates: {SETTINGS_GUARD}",
        lambda w: w.missing,
    ),
    "process_id": Exempt(
        f"approval processes are company settings needing approvals.manage: {SETTINGS_GUARD}", lambda w: w.missing
    ),
    "suppression_id": Exempt(
        f"the suppression list is a setting needing messages.manage_policy: {SETTINGS_GUARD}", lambda w: w.missing
    ),
    "rule_id": Exempt(f"workflow rules are settings needing automation.view: {SETTINGS_GUARD}", lambda w: w.missing),
    "run_id": Exempt(f"rule runs belong to rules, settings: {SETTINGS_GUARD}", lambda w: w.missing),
    "subscription_id": Exempt(
        f"webhook subscriptions are settings needing webhooks.manage: {SETTINGS_GUARD}", lambda w: w.missing
    ),
    "delivery_id": Exempt(
        f"webhook deliveries belong to subscriptions, settings: {SETTINGS_GUARD}", lambda w: w.missing
    ),
    "token": Exempt(
        "a signed unsubscribe token or a provider's shared webhook token, not a record id", lambda w: w.missing
    ),
    "secret": Exempt("a provider's shared callback secret, not a record id", lambda w: w.missing),
}

# Body fields naming a user or a shared thing. Giving a record to another user is what customers.assign
# governs (tested with the services); pools, teams and tags are shared.
EXEMPT_BODY_FIELDS: dict[str, str] = {
    "owner_id": "a user: assigning to another user needs customers.assign (tests/customers/services)",
    "assignee_id": "a user: tasks go to colleagues who can see their subject (tests/customers/services)",
    "from_user_id": f"a user: handovers need handover.run ({SETTINGS_GUARD})",
    "to_user_id": f"a user: handovers need handover.run ({SETTINGS_GUARD})",
    "to_pool_id": f"a shared pool: handovers need handover.run ({SETTINGS_GUARD})",
    "team_id": f"a shared team: pools need pool.manage ({SETTINGS_GUARD})",
    "tag_id": "a shared tag: the record that gets it is the one in the path",
    "process_id": "a shared approval process; the record is `object_id`",
    "template_id": "a shared message template; the record is `record_id`",
    "provider_template_id": "the provider's template code (a string), not a record",
}

# Query filters -> the rep_south thing they are tried with. A list filtered by them shows nothing of
# rep_south's; all but tag_id name only rep_south's things, so those lists come back empty.
QUERY_REFERENCES: dict[str, Callable[[World], int]] = {
    "customer_id": lambda w: w.south.person.pk,
    "lead_id": lambda w: w.south.lead.pk,
    "organisation_id": lambda w: w.south.organisation.pk,
    "owner_id": lambda w: w.org.rep_south.pk,
    "owner": lambda w: w.org.rep_south.pk,  # the lead list also takes a user id in ?owner=
    "assignee_id": lambda w: w.org.rep_south.pk,
    "team_id": lambda w: w.org.south.pk,
    "tag_id": lambda w: w.tag.pk,  # rep_north's own customer carries this tag too
    "pool_id": lambda w: w.south_pool.pk,
    "object_id": lambda w: w.south.person.pk,  # with ?approvable_type=customers.customer
    "record_id": lambda w: w.south.person.pk,  # with ?record_type=customers.customer
    "process_id": lambda w: w.south.approval_request.process_id,  # shared: north's request uses it too
    "template_id": lambda w: MISSING_ID,  # shared templates
    "rule_id": lambda w: MISSING_ID,  # rules are settings
}
SOUTH_ONLY_FILTERS = frozenset(QUERY_REFERENCES) - {"tag_id", "process_id", "template_id", "rule_id"}

# Statuses other than 404 a matrix case may answer, with why: (surface, route name or API path, method).
# Empty today: every route looks the record up before it checks the permission.
INBOX_MANAGE_FIRST = "reps lack inbox.manage, checked before any record is read: the same 403 for any id"
EXPECTED_STATUS: dict[tuple[str, str, str], tuple[set[int], str]] = {
    ("page", "inbox:message_assign", "GET"): ({403}, INBOX_MANAGE_FIRST),
    ("page", "inbox:message_assign", "POST"): ({403}, INBOX_MANAGE_FIRST),
    ("page", "inbox:message_create_lead", "GET"): ({403}, INBOX_MANAGE_FIRST),
    ("page", "inbox:message_create_lead", "POST"): ({403}, INBOX_MANAGE_FIRST),
    ("page", "inbox:message_retry", "GET"): ({403}, INBOX_MANAGE_FIRST),
    ("page", "inbox:message_retry", "POST"): ({403}, INBOX_MANAGE_FIRST),
    ("page", "inbox:record_search", "GET"): ({403}, INBOX_MANAGE_FIRST),
    ("page", "inbox:record_search", "POST"): ({403}, INBOX_MANAGE_FIRST),
    ("api", "/messages/{message_id}/bounce", "POST"): (
        {403},
        "marking a bounce needs messages.manage_policy, checked first",
    ),
}
# GET lists a rep may not read at all (403 whatever the filter).
LIST_STATUS: dict[str, tuple[set[int], str]] = {
    "/rule-runs": ({403}, "workflow rules are settings: reps lack automation.view"),
}

# Requests with rep_north's own records in the path and one of rep_south's in the body: refused (404 or 422
# naming the field) unless listed here.
BODY_REFERENCE_STATUS: dict[tuple[str, str], tuple[set[int], str]] = {
    ("POST", "/customers/bulk-assign"): ({403}, "reps may not assign customers at all"),
    ("POST", "/pool/returns"): ({200}, "ids the rep cannot see are skipped: it answers returned=0"),
    ("POST", "/messages"): ({403}, "the API token's rep may not send marketing messages (the default purpose)"),
    ("POST", "/inbound-messages/{inbound_message_id}/assign"): ({403}, INBOX_MANAGE_FIRST),
    ("POST", "/rules/{rule_id}/dry-run"): ({403}, "dry runs need automation.manage, checked first"),
}
DEFAULT_BODY_REFERENCE_STATUS = {404, 422}

# The annotation panels: the parameter naming the item each acts on (besides ?target=&object_id=) and the
# methods that use it (GET ?edit= of the notes panel only picks which of the listed notes opens).
PANEL_ITEM_PARAMETERS: dict[str, tuple[str, frozenset[str]]] = {
    "annotations:tags_panel": ("tag_id", frozenset({"POST", "DELETE"})),
    "annotations:notes_panel": ("note_id", frozenset({"POST", "DELETE"})),
    "annotations:attachments_panel": ("attachment_id", frozenset({"DELETE"})),
}

# Tables a successful read of rep_north's own rows writes to.
OWN_ROWS_SHOWN = {"audit.AccessLogEntry": "rep_north's own customers shown in clear are logged"}


# --- discovery ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageRoute:
    name: str  # "customers:customer_detail"
    route: str  # "customers/<int:customer_id>/"
    parameters: tuple[str, ...]


def _walk(resolver: URLResolver, prefix: str = "", namespace: str = "") -> Iterator[tuple[str, str, URLPattern]]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry, prefix + str(entry.pattern), inner)
        else:
            yield f"{namespace}{entry.name or ''}", prefix + str(entry.pattern), entry


def page_routes() -> list[PageRoute]:
    """Every web URL pattern (the API is read from its OpenAPI document), with its path parameters."""
    routes = []
    for name, route, pattern in _walk(get_resolver()):
        if route.startswith(API_ROOT.strip("/")):
            continue
        assert isinstance(pattern.pattern, RoutePattern), f"{name}: a regex URL; the matrix cannot read its parameters"
        routes.append(PageRoute(name=name, route=route, parameters=tuple(re.findall(r"<(?:\w+:)?(\w+)>", route))))
    return routes


def annotation_panels() -> list[PageRoute]:
    """The htmx panels of record pages: annotations pages outside /settings/ with no path parameter."""
    return [
        r
        for r in page_routes()
        if r.name.startswith("annotations:") and not r.parameters and not r.route.startswith("settings/")
    ]


@dataclass(frozen=True)
class Operation:
    method: str  # "PATCH"
    path: str  # "/customers/{customer_id}", under /api/v1
    path_parameters: tuple[str, ...]
    query_parameters: tuple[str, ...]
    body: dict[str, Any] | None  # the JSON schema of the request body
    multipart: bool
    components: dict[str, Any]

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def body_references(self) -> list[str]:
        return [n for n in (self.body or {}).get("properties", {}) if n.endswith(("_id", "_ids"))]


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    """Follow $ref, and take X out of `anyOf: [X, null]` (optional bodies and fields)."""
    if "$ref" in schema:
        return _resolve(components[schema["$ref"].rsplit("/", 1)[-1]], components)
    for key in ("anyOf", "allOf", "oneOf"):
        options = [s for s in schema.get(key, []) if s.get("type") != "null"]
        if options:
            return _resolve(options[0], components)
    return schema


def api_operations() -> list[Operation]:
    """Every operation of the API's OpenAPI document."""
    document: dict[str, Any] = api.get_openapi_schema()
    components = document.get("components", {}).get("schemas", {})
    operations = []
    for full_path, methods in document["paths"].items():
        for method, spec in methods.items():
            parameters = spec.get("parameters", [])
            body, multipart = None, False
            for content_type, content in spec.get("requestBody", {}).get("content", {}).items():
                body, multipart = _resolve(content["schema"], components), content_type.startswith("multipart/")
            operations.append(
                Operation(
                    method=method.upper(),
                    path=full_path.removeprefix(API_ROOT),
                    path_parameters=tuple(p["name"] for p in parameters if p["in"] == "path"),
                    query_parameters=tuple(p["name"] for p in parameters if p["in"] == "query"),
                    body=body,
                    multipart=multipart,
                    components=components,
                )
            )
    return operations


def _is_record_route(parameters: tuple[str, ...]) -> bool:
    """Routes the matrix tries: at least one owned parameter, and nothing unknown (reported elsewhere)."""
    known = set(OWNED_PARAMETERS) | set(EXEMPT_PARAMETERS) | {"target"}
    return any(p in OWNED_PARAMETERS for p in parameters) and set(parameters) <= known


# --- the world as ids ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """The values one record fills in (its id, and `target` for annotated records), and what it is."""

    values: dict[str, Any]
    label: str
    record: Any


def _record(world: World, side: str, kind: str) -> Any:
    if kind == "pool_customer":  # only rep_south has one; rep_north's ids come from the first kind
        return world.south_pool_customer
    return getattr(getattr(world, side), kind)


def _target_of(record: Any) -> str:
    spec = annotation_registry.annotated_type_for_model(type(record))
    assert spec is not None, f"{type(record).__name__} takes no annotations"
    return spec.code


def choices(world: World, parameter: str, side: str) -> list[Choice]:
    """rep_south's records for a parameter (every kind), or rep_north's one ("north")."""
    if parameter == "target":
        parameter = "object_id"
    kinds = OWNED_PARAMETERS[parameter] if side == "south" else OWNED_PARAMETERS[parameter][:1]
    found = []
    for kind in kinds:
        record = _record(world, side, kind)
        values: dict[str, Any] = {parameter: record.pk}
        if parameter == "object_id":
            values["target"] = _target_of(record)
        found.append(Choice(values=values, label=f"{side}.{kind}", record=record))
    return found


@dataclass(frozen=True)
class Placement:
    """Path values with rep_south's id(s) among rep_north's own; `foreign` is the parameter the missing-id
    twin replaces."""

    values: dict[str, Any]
    foreign: str
    label: str
    records: list[Any]

    @property
    def twin_values(self) -> dict[str, Any]:
        return {**self.values, self.foreign: MISSING_ID}


def placements(world: World, parameters: tuple[str, ...]) -> Iterator[Placement]:
    """One of rep_south's ids among rep_north's own, for each owned parameter and each kind of rep_south's
    records; and, with several owned parameters, all of rep_south's at once."""
    owned = [p for p in parameters if p in OWNED_PARAMETERS]
    fixed = {p: EXEMPT_PARAMETERS[p].value(world) for p in parameters if p in EXEMPT_PARAMETERS}
    north = {p: choices(world, p, "north")[0] for p in owned}
    south = {p: choices(world, p, "south")[0] for p in owned}
    for foreign in owned:
        for choice in choices(world, foreign, "south"):
            picked = {p: choice if p == foreign else north[p] for p in owned}
            values = dict(fixed)
            for p in owned:
                values.update(picked[p].values)
            label = " + ".join(c.label for c in picked.values())
            yield Placement(values, foreign, label, [c.record for c in picked.values()])
    if len(owned) > 1:
        values = dict(fixed)
        for p in owned:
            values.update(south[p].values)
        label = " + ".join(c.label for c in south.values())
        yield Placement(values, owned[-1], label, [c.record for c in south.values()])


def version_of(records: list[Any]) -> int:
    """The version of the innermost record a request names (sent as If-Match and `version`)."""
    versions = [getattr(r, "version", None) for r in records]
    known = [v for v in versions if v is not None]
    return int(known[-1]) if known else 1


# --- answers and the database -------------------------------------------------------------------------------


def content(response: Response) -> str:
    """Headers and body of an answer (a streamed file is read)."""
    streamed = getattr(response, "streaming", False)
    body = b"".join(response.streaming_content) if streamed else response.content  # type: ignore[attr-defined]
    headers = "\n".join(f"{k}: {v}" for k, v in response.items())
    return headers + "\n" + body.decode("utf-8", errors="replace")


def leaked(text: str, secrets: list[str]) -> list[str]:
    """rep_south's texts found in an answer, in clear, JSON-escaped or URL-encoded (file names)."""
    return [s for s in secrets if any(form in text for form in (s, json.dumps(s)[1:-1], urllib.parse.quote(s)))]


def _short(response: Response) -> str:
    if getattr(response, "streaming", False):
        return "<file>"
    return response.content.decode("utf-8", errors="replace")[:160].replace("\n", " ")


VOLATILE_FIELDS = {("identity", "apitoken"): {"last_used_at"}, ("identity", "user"): {"last_login"}}
WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)
ALLOWED_WRITES = re.compile(r'^\s*(UPDATE|INSERT INTO|DELETE FROM) "django_session"|^\s*UPDATE "identity_apitoken"')

State = dict[str, list[tuple[Any, ...]]]


def database_state(ignore: frozenset[str] = frozenset()) -> State:
    """Every row of every guanxi table (history tables too), minus fields a read may touch (last login,
    token last use) and the tables in `ignore` (model labels)."""
    state: State = {}
    for model in apps.get_models():
        meta = model._meta
        if meta.proxy or meta.label in ignore or not apps.get_app_config(meta.app_label).name.startswith("guanxi."):
            continue
        skip = VOLATILE_FIELDS.get((meta.app_label, meta.model_name or ""), set())
        names = [f.attname for f in meta.concrete_fields if f.name not in skip]
        state[meta.label] = list(model._base_manager.order_by("pk").values_list(*names))
    return state


def describe_change(before: State, after: State) -> str:
    changes = []
    for label, rows in after.items():
        old = before.get(label, [])
        if rows != old:
            added = [r for r in rows if r not in old][:1]
            removed = [r for r in old if r not in rows][:1]
            changes.append(f"{label}: {len(old)} -> {len(rows)} rows; new {added} gone {removed}")
    return "; ".join(changes)


@dataclass
class Recorder:
    """Sends the requests, checks every answer and collects the problems for one readable assertion."""

    world: World
    may_write: dict[str, str] = field(default_factory=dict)  # model label -> why a request may write to it
    watch_secrets: bool = True
    failures: list[str] = field(default_factory=list)
    tried: int = 0

    def __post_init__(self) -> None:
        self.start = self.baseline = self.state()

    def state(self) -> State:
        return database_state(frozenset(self.may_write))

    def send(self, label: str, request: Request, *, echo: str = "") -> Response:
        """Send one request; report what it wrote to the database and which of rep_south's texts it showed.
        `echo` is a text the request itself carries (a search query), which the answer may repeat."""
        self.tried += 1
        with CaptureQueriesContext(connection) as queries:
            response = request()
            text = content(response)
        if any(WRITE.match(q["sql"]) and not ALLOWED_WRITES.match(q["sql"]) for q in queries.captured_queries):
            now = self.state()
            if now != self.baseline:
                self.failures.append(f"{label}: changed the database: {describe_change(self.baseline, now)}")
                self.baseline = now
        found = leaked(text, [s for s in self.world.secrets if s != echo]) if self.watch_secrets else []
        if found:
            self.failures.append(f"{label}: answered {response.status_code} showing rep_south's {found}")
        return response

    def expect(self, label: str, response: Response, allowed: set[int], why: str = "") -> None:
        if response.status_code not in allowed:
            reason = f" ({why})" if why else ""
            self.failures.append(
                f"{label}: answered {response.status_code}, expected {sorted(allowed)}{reason}: {_short(response)}"
            )

    def same_as_missing(self, label: str, response: Response, twin: Response, *, body: bool) -> None:
        """A hidden record must answer exactly like one that does not exist."""
        if response.status_code != twin.status_code or (body and response.content != twin.content):
            self.failures.append(
                f"{label}: answered {response.status_code} {_short(response)!r} but a missing id answers "
                f"{twin.status_code} {_short(twin)!r}: the difference tells that the record exists"
            )

    def fail(self, message: str) -> None:
        self.failures.append(message)

    def finish(self, what: str) -> None:
        final = self.state()
        if final != self.start:
            self.fail(f"after all requests the database differs: {describe_change(self.start, final)}")
        assert self.tried, f"no {what} were tried: the discovery found nothing"
        assert not self.failures, f"{len(self.failures)} problem(s) in {self.tried} {what}:\n" + "\n".join(
            f"- {failure}" for failure in self.failures
        )


# --- clients and requests -----------------------------------------------------------------------------------


def page_client(world: World, user: str = "rep_north") -> Client:
    client = Client(raise_request_exception=False)  # a crash is reported like any other wrong answer
    client.force_login(getattr(world.org, user))
    return client


def api_client(world: World, side: str = "north") -> Client:
    """The rep's API token with every scope: only visibility can refuse."""
    secret = getattr(world, side).token_secret
    return Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Bearer {secret}")


def htmx_headers(htmx: bool) -> dict[str, str]:
    return {"HX-Request": "true"} if htmx else {}


def upload() -> SimpleUploadedFile:
    return SimpleUploadedFile("north-upload.pdf", PDF_BYTES, content_type="application/pdf")


def _example(name: str, schema: dict[str, Any], components: dict[str, Any], version: int) -> Any:
    schema = _resolve(schema, components)
    if name == "version":
        return version
    if "enum" in schema:
        return schema["enum"][0]
    by_type = {"integer": 1, "number": 1, "boolean": False, "array": [], "object": {}}
    if schema.get("type") in by_type:
        return by_type[schema["type"]]
    by_format = {"date-time": "2031-01-01T09:00:00+08:00", "date": "2001-01-01"}
    return by_format.get(schema.get("format", ""), FILLER)


# Optional fields worth sending too, so that an unguarded route would really change something.
CHANGING_FIELDS = frozenset({"name", "title", "body", "subject", "reason", "label", "description", "version"})


def plausible_body(operation: Operation, version: int, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """A body that passes the schema, so the request reaches the code that looks the record up."""
    assert operation.body is not None
    required = set(operation.body.get("required", []))
    body = {
        name: _example(name, prop, operation.components, version)
        for name, prop in operation.body.get("properties", {}).items()
        if name in required or name in CHANGING_FIELDS
    }
    return {**body, **(overrides or {})}


def api_request(
    client: Client, operation: Operation, values: dict[str, Any], version: int, body: dict[str, Any] | None = None
) -> Request:
    """The operation with these path values; a plausible body unless one is given; If-Match: the version."""
    path = API_ROOT + operation.path.format(**values)
    headers = {"If-Match": f'"{version}"'}
    send = getattr(client, operation.method.lower())
    if operation.multipart:
        return partial(client.post, path, {"file": upload()}, headers=headers)
    if operation.body is None:
        return partial(send, path, headers=headers)
    payload = json.dumps(body if body is not None else plausible_body(operation, version))
    return partial(send, path, payload, content_type="application/json", headers=headers)


def page_form(version: int) -> dict[str, Any]:
    """A form post most of the app's forms accept, so an unguarded view would really write."""
    return {
        "name": FILLER,
        "kind": "person",
        "title": FILLER,
        "body": FILLER,
        "subject": FILLER,
        "channel": "call",
        "direction": "outbound",
        "reason": FILLER,
        "value": "13700137000",
        "label": FILLER,
        "result": FILLER,
        "organisation": "none",
        "priority": "normal",
        "from": "panel",
        "version": str(version),
    }


def page_request(client: Client, url: str, method: str, htmx: bool, version: int) -> Request:
    if method == "GET":
        return partial(client.get, url, headers=htmx_headers(htmx))
    return partial(client.post, url, page_form(version), headers=htmx_headers(htmx))


def panel_request(client: Client, url: str, method: str, params: dict[str, Any], htmx: bool) -> Request:
    """Panels read GET and DELETE parameters from the query string, POST ones from the form."""
    if method == "GET":
        return partial(client.get, url, params, headers=htmx_headers(htmx))
    if method == "DELETE":
        return partial(client.delete, f"{url}?{urllib.parse.urlencode(params)}", headers=htmx_headers(htmx))
    return partial(client.post, url, {"body": FILLER, "file": upload(), **params}, headers=htmx_headers(htmx))


# --- the mapping --------------------------------------------------------------------------------------------


def test_every_id_parameter_is_mapped_or_exempt(world: World) -> None:
    """A new route must say what its ids name: rep_south's record of that kind, or a shared thing."""
    unknown: dict[str, set[str]] = {}

    def note(name: str, where: str) -> None:
        unknown.setdefault(name, set()).add(where)

    for route in page_routes():
        for name in route.parameters:
            if name not in OWNED_PARAMETERS and name not in EXEMPT_PARAMETERS:
                note(name, f"page {route.name}")
    for operation in api_operations():
        for name in operation.path_parameters:
            if name not in OWNED_PARAMETERS and name not in EXEMPT_PARAMETERS and name != "target":
                note(name, f"API {operation.label} (path)")
        for name in operation.query_parameters:
            if name.endswith("_id") and name not in QUERY_REFERENCES:
                note(name, f"API {operation.label} (query)")
        for name in operation.body_references:
            if name.removesuffix("s") not in OWNED_PARAMETERS and name not in EXEMPT_BODY_FIELDS:
                note(name, f"API {operation.label} (body)")
    lines = [f"  {name}: {', '.join(sorted(where))}" for name, where in sorted(unknown.items())]
    assert not unknown, (
        "These id parameters are neither mapped nor exempt. Add each to OWNED_PARAMETERS if it names a record "
        "a rep owns (and give the world in tests/security/conftest.py such a record of rep_south's), or to "
        "EXEMPT_PARAMETERS / EXEMPT_BODY_FIELDS / QUERY_REFERENCES with the reason it names a shared thing:\n"
        + "\n".join(lines)
    )
    covered = {_target_of(_record(world, "south", kind)) for kind in OWNED_PARAMETERS["object_id"]}
    registered = set(getattr(annotation_registry, "_types", {}))
    assert registered <= covered, f"give OWNED_PARAMETERS['object_id'] a record of {sorted(registered - covered)}"
    panels = {r.name for r in annotation_panels()}
    assert panels and panels <= set(PANEL_ITEM_PARAMETERS), (
        f"annotation panels {sorted(panels - set(PANEL_ITEM_PARAMETERS))}: add them to PANEL_ITEM_PARAMETERS"
    )


# --- the matrix ---------------------------------------------------------------------------------------------


def test_api_routes_refuse_other_reps_records(world: World) -> None:
    recorder = Recorder(world)
    client = api_client(world)
    for operation in api_operations():
        if not _is_record_route(operation.path_parameters):
            continue  # no record in the path (lists, creation), or only shared things: test_settings_refuse_reps
        for placed in placements(world, operation.path_parameters):
            version = version_of(placed.records)
            label = f"API {operation.label} with {placed.label} {placed.values}"
            response = recorder.send(label, api_request(client, operation, placed.values, version))
            twin = recorder.send(f"{label} (missing id)", api_request(client, operation, placed.twin_values, version))
            recorder.same_as_missing(label, response, twin, body=True)
            allowed, why = EXPECTED_STATUS.get(("api", operation.path, operation.method), ({404}, ""))
            recorder.expect(label, response, allowed, why)
    recorder.finish("API requests")


PAGE_METHODS = (("GET", False), ("GET", True), ("POST", False), ("POST", True))


def test_pages_refuse_other_reps_records(world: World) -> None:
    recorder = Recorder(world)
    client = page_client(world)
    for route in page_routes():
        if not _is_record_route(route.parameters):
            continue  # no parameters, or only shared things: test_settings_refuse_reps
        for placed in placements(world, route.parameters):
            url = reverse(route.name, kwargs=placed.values)
            twin_url = reverse(route.name, kwargs=placed.twin_values)
            version = version_of(placed.records)
            for method, htmx in PAGE_METHODS:
                label = f"page {method}{' (htmx)' if htmx else ''} {route.name} with {placed.label} {placed.values}"
                response = recorder.send(label, page_request(client, url, method, htmx, version))
                twin = recorder.send(f"{label} (missing id)", page_request(client, twin_url, method, htmx, version))
                recorder.same_as_missing(label, response, twin, body=False)
                if response.status_code == 405:
                    continue  # the view refuses the method before it reads any id (the twin says the same)
                allowed, why = EXPECTED_STATUS.get(("page", route.name, method), ({404}, ""))
                recorder.expect(label, response, allowed, why)
    recorder.finish("page requests")


def panel_item(world: World, item: str, method: str) -> int:
    """What a panel request on rep_south's record names besides it: rep_north's own note or file; for tags,
    the tag rep_south's records carry (to take off) or one they do not (to put on)."""
    if item == "tag_id":
        return world.spare_tag.pk if method == "POST" else EXEMPT_PARAMETERS[item].value(world)
    value: int = choices(world, item, "north")[0].values[item]
    return value


def test_annotation_panels_refuse_other_reps_records(world: World) -> None:
    recorder = Recorder(world)
    client = page_client(world)
    mine = choices(world, "object_id", "north")[0]
    for route in annotation_panels():
        url = reverse(route.name)
        item, item_methods = PANEL_ITEM_PARAMETERS[route.name]
        cases: list[tuple[str, dict[str, Any], str, str]] = []  # method, params, foreign parameter, label
        for choice in choices(world, "object_id", "south"):  # rep_south's record as the address
            for method in ("GET", "POST", "DELETE"):
                params = dict(choice.values)
                if method in item_methods:
                    params[item] = panel_item(world, item, method)
                cases.append((method, params, "object_id", choice.label))
        if item in OWNED_PARAMETERS:  # rep_north's own record as the address, rep_south's note or file
            for choice in choices(world, item, "south"):
                for method in sorted(item_methods):
                    version = str(version_of([choice.record]))
                    cases.append((method, {**mine.values, **choice.values, "version": version}, item, choice.label))
        for method, params, foreign, what in cases:
            for htmx in (False, True):
                label = f"panel {method}{' (htmx)' if htmx else ''} {route.name} with {what} {params}"
                response = recorder.send(label, panel_request(client, url, method, params, htmx))
                twin_request = panel_request(client, url, method, {**params, foreign: MISSING_ID}, htmx)
                recorder.same_as_missing(
                    label, response, recorder.send(f"{label} (missing id)", twin_request), body=False
                )
                allowed, why = EXPECTED_STATUS.get(("panel", route.name, method), ({404}, ""))
                recorder.expect(label, response, allowed, why)
    recorder.finish("panel requests")


# --- ids in query strings and bodies ------------------------------------------------------------------------


def test_api_filters_naming_other_reps_things_list_nothing_of_theirs(world: World) -> None:
    """GET /customers?owner_id=<rep_south>, /tasks?customer_id=<rep_south's customer>...: nothing of theirs."""
    recorder = Recorder(world, may_write=OWN_ROWS_SHOWN)
    client = api_client(world)
    for operation in api_operations():
        if operation.method != "GET" or operation.path_parameters:
            continue
        for name in (n for n in operation.query_parameters if n in QUERY_REFERENCES and n.endswith("_id")):
            value = QUERY_REFERENCES[name](world)
            label = f"API GET {operation.path}?{name}={value}"
            response = recorder.send(label, partial(client.get, API_ROOT + operation.path, {name: value}))
            allowed, why = LIST_STATUS.get(operation.path, ({200}, ""))
            recorder.expect(label, response, allowed, why)
            items = response.json().get("items") if response.status_code == 200 else None
            if items and name in SOUTH_ONLY_FILTERS:
                recorder.fail(f"{label}: listed {len(items)} of rep_south's rows: {items}")
    recorder.finish("filtered API lists")


# List pages and the filters naming a user, team, tag, organisation or pool they take.
PAGE_FILTERS = {
    "customers:customer_list": ("owner_id", "team_id", "tag_id", "organisation_id"),
    "customers:lead_list": ("owner_id", "owner", "team_id"),
    "customers:pool": ("pool_id",),
}


def test_page_filters_naming_other_reps_things_list_nothing_of_theirs(world: World) -> None:
    recorder = Recorder(world, may_write=OWN_ROWS_SHOWN)
    client = page_client(world)
    for name, filters in PAGE_FILTERS.items():
        for filter_name in filters:
            value = QUERY_REFERENCES[filter_name](world)
            for htmx in (False, True):
                label = f"page {name}?{filter_name}={value}{' (htmx)' if htmx else ''}"
                request = partial(client.get, reverse(name), {filter_name: value}, headers=htmx_headers(htmx))
                recorder.expect(label, recorder.send(label, request), {200})
    # The task form opens about the customer or lead named in the query string.
    for filter_name in ("customer_id", "lead_id"):
        value = QUERY_REFERENCES[filter_name](world)
        label = f"page customers:task_create?{filter_name}={value}"
        response = recorder.send(label, partial(client.get, reverse("customers:task_create"), {filter_name: value}))
        recorder.expect(label, response, {404})
    recorder.finish("filtered pages")


def _south_reference(world: World, name: str) -> Any:
    if name.endswith("_ids"):
        return [c.values[name[:-1]] for c in choices(world, name[:-1], "south")]
    return choices(world, name, "south")[0].values[name]


def test_api_bodies_naming_other_reps_records_change_nothing(world: World) -> None:
    """rep_north's own record in the path and one of rep_south's in the body (a task about rep_south's
    customer, a lead converted into rep_south's organisation, a bulk action on rep_south's customers):
    refused or skipped, and nothing is half-written, not even on rep_north's own record."""
    recorder = Recorder(world)
    client = api_client(world)
    known = set(OWNED_PARAMETERS) | set(EXEMPT_PARAMETERS) | {"target"}
    for operation in api_operations():
        if not set(operation.path_parameters) <= known:
            continue  # test_every_id_parameter_is_mapped_or_exempt reports it
        owned_path = [p for p in operation.path_parameters if p not in EXEMPT_PARAMETERS]
        values = {p: EXEMPT_PARAMETERS[p].value(world) for p in operation.path_parameters if p in EXEMPT_PARAMETERS}
        mine = [choices(world, p, "north")[0] for p in owned_path if p != "target"]
        for choice in mine:
            values.update(choice.values)
        version = version_of([c.record for c in mine])
        for name in operation.body_references:
            if name in EXEMPT_BODY_FIELDS or name.removesuffix("s") not in OWNED_PARAMETERS:
                continue
            reference = _south_reference(world, name)
            body = plausible_body(operation, version, {name: reference})
            label = f"API {operation.label} {values} with {name}={reference}"
            response = recorder.send(label, api_request(client, operation, values, version, body))
            missing = [MISSING_ID] if name.endswith("_ids") else MISSING_ID
            twin_request = api_request(client, operation, values, version, {**body, name: missing})
            recorder.same_as_missing(label, response, recorder.send(f"{label} (missing id)", twin_request), body=True)
            allowed, why = BODY_REFERENCE_STATUS.get(
                (operation.method, operation.path), (DEFAULT_BODY_REFERENCE_STATUS, "")
            )
            recorder.expect(label, response, allowed, why)
    recorder.finish("API requests naming rep_south's records in the body")


def test_forms_naming_other_reps_records_change_nothing(world: World) -> None:
    """Form fields that name a record (the task's customer, the person's organisation, the organisation a lead
    joins): rep_south's record is refused, and rep_north's own record is not half-changed."""
    south, north = world.south, world.north
    cases: list[tuple[str, str, dict[str, Any], int]] = [
        (reverse("customers:task_create"), "a task about rep_south's customer", {"customer": south.person.pk}, 404),
        (reverse("customers:task_create"), "a task about rep_south's lead", {"lead": south.lead.pk}, 404),
        (
            reverse("customers:customer_create"),
            "a person in rep_south's organisation",
            {"organisation": south.organisation.pk},
            422,
        ),
        (
            reverse("customers:customer_edit", args=[north.person.pk]),
            "rep_north's person moved into rep_south's organisation",
            {"organisation": south.organisation.pk, "version": str(north.person.version)},
            422,
        ),
        (
            reverse("customers:lead_convert", args=[north.lead.pk]),
            "rep_north's lead converted into rep_south's organisation",
            {"organisation": "link", "organisation_id": south.organisation.pk, "version": str(north.lead.version)},
            422,
        ),
    ]
    recorder = Recorder(world)
    client = page_client(world)
    for url, what, fields, status in cases:
        label = f"page POST {url}: {what}"
        response = recorder.send(label, partial(client.post, url, {**page_form(1), **fields}))
        recorder.expect(label, response, {status})
    recorder.finish("form posts")


def test_bulk_actions_skip_other_reps_records(world: World) -> None:
    """The customer list's bulk actions (assign, tag, return to the pool) given rep_south's ids change nothing.
    (The API's bulk endpoints are in test_api_bodies_naming_other_reps_records_change_nothing.)"""
    recorder = Recorder(world, may_write=OWN_ROWS_SHOWN)
    client = page_client(world)
    south_ids = _south_reference(world, "customer_ids")
    actions = {
        "assign": {"owner_id": world.org.rep_north.pk},
        "tag": {"tag_id": world.spare_tag.pk},
        "return": {"reason": FILLER},
    }
    for action, extra in actions.items():
        label = f"page POST customers:customer_bulk action={action} ids={south_ids}"
        request = partial(
            client.post, reverse("customers:customer_bulk"), {"action": action, "ids": south_ids, **extra}
        )
        recorder.expect(label, recorder.send(label, request), {302}, "back to the list with a message")
        shown = recorder.send(f"{label}, then the list", partial(client.get, reverse("customers:customer_list")))
        recorder.expect(f"{label}, then the list", shown, {200})
    recorder.finish("bulk actions")


def test_pages_and_lists_without_ids_show_nothing_of_other_reps(world: World) -> None:
    """The workbench, every list, the notifications, the token page, the API lists: nothing of rep_south's."""
    recorder = Recorder(world, may_write=OWN_ROWS_SHOWN)
    client = page_client(world)
    for route in page_routes():
        if route.parameters or route.name == "ui:logout":  # signing out would turn every later page into a redirect
            continue
        for htmx in (False, True):
            label = f"page GET{' (htmx)' if htmx else ''} {route.name}"
            response = recorder.send(label, partial(client.get, reverse(route.name), headers=htmx_headers(htmx)))
            if response.status_code >= 500:
                recorder.fail(f"{label}: answered {response.status_code}")
    api_as_north = api_client(world)
    for operation in api_operations():
        if operation.method == "GET" and not operation.path_parameters:
            label = f"API GET {operation.path}"
            response = recorder.send(label, partial(api_as_north.get, API_ROOT + operation.path))
            if response.status_code >= 500:
                recorder.fail(f"{label}: answered {response.status_code}")
    recorder.finish("reads without ids")


# --- search -------------------------------------------------------------------------------------------------


def search_texts() -> dict[str, str]:
    return {
        "customer name": SOUTH_NAMES.person,
        "customer pinyin": full_pinyin(SOUTH_NAMES.person),
        "customer initials": pinyin_initials(SOUTH_NAMES.person),
        "organisation name": SOUTH_NAMES.organisation,
        "phone suffix": SOUTH_NAMES.phone[-6:],
        "email address": SOUTH_NAMES.email,
        "email local part": SOUTH_NAMES.email.split("@")[0],
        "lead name": SOUTH_NAMES.lead,
        "lead phone suffix": SOUTH_NAMES.lead_phone[-6:],
        "pool customer name": SOUTH_POOL_CUSTOMER,
    }


def nothing_like(text: str) -> str:
    """A query of the same kind as `text` that matches nothing."""
    if text.isdigit():
        return "0" * len(text)
    if "@" in text:  # an email address: the page treats it as one (hints, no pinyin)
        return "zzqqxx@nowhere.example"
    return "zzqqxx" if text.isascii() else "查无此人"


@pytest.mark.parametrize("door", ["service", "page", "suggest", "api"])
def test_search_finds_nothing_of_other_reps(world: World, door: str) -> None:
    recorder = Recorder(world)
    pages, api_as_north = page_client(world), api_client(world)
    for what, text in search_texts().items():
        label = f"search ({door}) for the {what} {text!r}"
        if door == "service":
            # The control: rep_south finds each of them, so rep_north finding nothing means something.
            assert any(global_search(actor=actor(world.org.rep_south), text=text).values()), f"{label}: no control"
            recorder.tried += 1
            hits = {k: v for k, v in global_search(actor=actor(world.org.rep_north), text=text).items() if v}
            if hits:
                recorder.fail(f"{label}: rep_north found {hits}")
        elif door == "api":
            response = recorder.send(label, partial(api_as_north.get, f"{API_ROOT}/search", {"q": text}), echo=text)
            recorder.expect(label, response, {200})
            found = [g for g in response.json().get("groups", []) if g["hits"]] if response.status_code == 200 else []
            if found:
                recorder.fail(f"{label}: rep_north found {found}")
        else:
            url = reverse("search:results" if door == "page" else "search:suggest")
            for htmx in (False, True):
                response = recorder.send(
                    label, partial(pages.get, url, {"q": text}, headers=htmx_headers(htmx)), echo=text
                )
                recorder.expect(label, response, {200})
                # The page repeats the query: as often as a query that matches nothing, or it shows a hit.
                control = pages.get(url, {"q": nothing_like(text)}, headers=htmx_headers(htmx))
                shown, expected = content(response).count(text), content(control).count(nothing_like(text))
                if shown != expected:
                    recorder.fail(f"{label}: shows the text {shown} times, a query matching nothing {expected}")
    recorder.finish(f"searches through the {door}")


# --- settings -----------------------------------------------------------------------------------------------

# Settings pages every user may use, and why.
SELF_SERVICE_SETTINGS = {
    "identity:token_list": "every user manages their own API tokens",
    "identity:token_revoke": "every user revokes their own tokens; another user's token is 404 (the matrix)",
}
# Pages outside /settings/ that only managers and administrators may use.
ADMIN_PAGES = ("customers:handover",)
# API paths (under /api/v1) whose writes are administration, and paths all of whose methods are.
ADMIN_API_WRITES = ("/custom-fields", "/tags", "/pools")
ADMIN_API_PATHS = ("/handovers",)


def settings_pages() -> list[PageRoute]:
    return [
        r
        for r in page_routes()
        if (r.route.startswith("settings/") or r.name in ADMIN_PAGES) and r.name not in SELF_SERVICE_SETTINGS
    ]


def admin_operations() -> list[Operation]:
    return [
        o
        for o in api_operations()
        if (o.method != "GET" and o.path.startswith(ADMIN_API_WRITES)) or o.path.startswith(ADMIN_API_PATHS)
    ]


def _settings_values(world: World, parameters: tuple[str, ...]) -> tuple[dict[str, Any], int]:
    """Path values of a settings route (shared things only) and the version of the last one."""
    unknown = [p for p in parameters if p not in EXEMPT_PARAMETERS]
    assert not unknown, f"settings routes with parameters {unknown}: add them to EXEMPT_PARAMETERS"
    records = [EXEMPT_PARAMETERS[p].record(world) for p in parameters]
    return {p: r.pk for p, r in zip(parameters, records, strict=True)}, version_of(records)


@pytest.mark.parametrize("surface", ["pages", "api"])
def test_settings_refuse_reps(world: World, surface: str) -> None:
    """Every settings page and every administration route refuses a rep with 403 and changes nothing."""
    recorder = Recorder(world)
    if surface == "pages":
        client = page_client(world)
        routes = settings_pages()
        assert routes, "the discovery found no settings page"
        for route in routes:
            values, version = _settings_values(world, route.parameters)
            url = reverse(route.name, kwargs=values)
            answers = []
            for method in ("GET", "POST"):
                label = f"page {method} {route.name} {values}"
                response = recorder.send(label, page_request(client, url, method, False, version))
                answers.append(response.status_code)
                if response.status_code != 405:  # the view does not serve the method at all
                    recorder.expect(label, response, {403})
            if 403 not in answers:
                recorder.fail(f"{route.name}: no method answered 403 ({answers})")
    else:
        client = api_client(world)
        operations = admin_operations()
        assert operations, "the discovery found no administration route"
        for operation in operations:
            values, version = _settings_values(world, operation.path_parameters)
            label = f"API {operation.label} {values}"
            recorder.expect(label, recorder.send(label, api_request(client, operation, values, version)), {403})
    recorder.finish(f"settings {surface}")


# --- the control --------------------------------------------------------------------------------------------

# Record pages the owner may not use either, and why (rep_north still gets 404: the record is looked up first).
OWNER_STATUS: dict[str, tuple[set[int], str]] = {
    "customers:customer_delete": ({403}, "reps may not delete customers"),
    "notifications:open": ({302}, "opening a notification marks it read and follows its link"),
    "inbox:message_assign": ({403}, INBOX_MANAGE_FIRST),
    "inbox:message_create_lead": ({403}, INBOX_MANAGE_FIRST),
    "inbox:message_retry": ({403}, INBOX_MANAGE_FIRST),
    "inbox:record_search": ({403}, INBOX_MANAGE_FIRST),
}


def test_owner_reaches_every_record_route(world: World) -> None:
    """rep_south opens every record route of the matrix with the same ids: the 404s rep_north gets are about
    visibility, not about wrong ids or broken routes."""
    recorder = Recorder(
        world,
        may_write={
            "audit.AccessLogEntry": "rep_south reads their own personal data",
            "notifications.Notification": "opening their own notification marks it read",
        },
    )
    recorder.watch_secrets = False  # rep_south reads their own records
    api_as_south = api_client(world, "south")
    for operation in api_operations():
        if operation.method == "GET" and _is_record_route(operation.path_parameters):
            values = {p: EXEMPT_PARAMETERS[p].value(world) for p in operation.path_parameters if p in EXEMPT_PARAMETERS}
            for p in operation.path_parameters:
                if p not in EXEMPT_PARAMETERS:
                    values.update(choices(world, p, "south")[0].values)
            label = f"API GET {operation.path} as rep_south {values}"
            recorder.expect(label, recorder.send(label, api_request(api_as_south, operation, values, 1)), {200})
    pages_as_south = page_client(world, "rep_south")
    for route in page_routes():
        if _is_record_route(route.parameters):
            values = {p: EXEMPT_PARAMETERS[p].value(world) for p in route.parameters if p in EXEMPT_PARAMETERS}
            for p in route.parameters:
                if p not in EXEMPT_PARAMETERS:
                    values[p] = choices(world, p, "south")[0].values[p]
            label = f"page GET {route.name} as rep_south {values}"
            response = recorder.send(label, partial(pages_as_south.get, reverse(route.name, kwargs=values)))
            allowed, why = OWNER_STATUS.get(route.name, ({200, 405}, "405: the page only takes POST"))
            recorder.expect(label, response, allowed, why)
    recorder.finish("requests by the owner")


# --- nothing half-written -----------------------------------------------------------------------------------

OVERLONG = "长" * 20_000


def _is_text(prop: dict[str, Any], operation: Operation) -> bool:
    """A free text field (not a choice, date or file)."""
    schema = _resolve(prop, operation.components)
    return schema.get("type") == "string" and "enum" not in schema and "format" not in schema


def test_refused_writes_leave_nothing_half_written(world: World) -> None:
    """An administrator (who may do everything) sends every write operation a body whose texts are all far too
    long: each is refused with a 4xx naming the problem (never a crash: PostgreSQL would reject what SQLite
    stores), and the database is exactly as before. So is a customer whose second phone repeats the first:
    the customer row was inserted before the duplicate was found, and must be gone."""
    from guanxi.platform.identity.services import api_token_create, token_scope_choices

    _token, secret = api_token_create(
        actor=actor(world.org.admin), name="admin", scopes=token_scope_choices(), expires_at=None
    )
    recorder = Recorder(world)
    recorder.watch_secrets = False  # the administrator sees everything
    admin = Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Bearer {secret}")
    known = set(OWNED_PARAMETERS) | set(EXEMPT_PARAMETERS) | {"target"}
    for operation in api_operations():
        texts = [
            name for name, prop in (operation.body or {}).get("properties", {}).items() if _is_text(prop, operation)
        ]
        if operation.multipart or not texts or not set(operation.path_parameters) <= known:
            continue
        values: dict[str, Any] = {}
        records = []
        for p in operation.path_parameters:
            if p in EXEMPT_PARAMETERS:
                records.append(EXEMPT_PARAMETERS[p].record(world))
                values[p] = records[-1].pk
            elif p != "target":
                mine = choices(world, p, "north")[0]
                values.update(mine.values)
                records.append(mine.record)
        version = version_of(records)
        body = plausible_body(operation, version, dict.fromkeys(texts, OVERLONG))
        label = f"API {operation.label} {values} with every text {len(OVERLONG)} characters long"
        response = recorder.send(label, api_request(admin, operation, values, version, body))
        if not 400 <= response.status_code < 500:
            recorder.fail(f"{label}: answered {response.status_code}, expected a 4xx: {_short(response)}")
    label = "API POST /customers whose second phone repeats the first"
    duplicate = {
        "name": "半截客户",
        "contact_points": [{"kind": "phone", "value": "13800000001"}, {"kind": "phone", "value": "+86 138 0000 0001"}],
    }
    response = recorder.send(
        label, partial(admin.post, f"{API_ROOT}/customers", duplicate, content_type="application/json")
    )
    recorder.expect(label, response, {422})
    recorder.finish("refused writes")


# --- bulk requests mixing ids ---------------------------------------------------------------------------------


def south_rows(world: World) -> dict[str, list[Any]]:
    """rep_south's customers as rows (owner, team, pool...), their history, pool events and tags."""
    from guanxi.customers.models import Customer, PoolEvent
    from guanxi.platform.annotations.models import TaggedItem

    ids = [world.south.person.pk, world.south.organisation.pk, world.south_pool_customer.pk]
    return {
        "customers": list(Customer._base_manager.filter(pk__in=ids).order_by("pk").values_list()),
        "history": list(Customer.history.filter(id__in=ids).order_by("history_id").values_list("history_id")),
        "pool events": list(PoolEvent.objects.filter(customer_id__in=ids).order_by("pk").values_list()),
        "tags": list(TaggedItem.objects.filter(object_id__in=ids).order_by("pk").values_list()),
    }


@dataclass
class MixedIdsRecorder(Recorder):
    """rep_north's own customer in a bulk request may change: only south_rows() is compared, per request."""

    def state(self) -> State:
        return {}


def test_bulk_requests_mixing_own_and_other_reps_ids_touch_only_own_records(world: World) -> None:
    """Every bulk action (the API's `*_ids` bodies, found in the schema, and the customer list's bulk form)
    given rep_north's own customer *and* rep_south's: rep_south's customers, their history, pool events and
    tags stay exactly as they were, whatever happens to rep_north's own, and nothing of theirs is shown."""
    recorder = MixedIdsRecorder(world)
    client, pages = api_client(world), page_client(world)
    requests: list[tuple[str, Request]] = []
    for operation in api_operations():
        for name in (n for n in operation.body_references if n.endswith("_ids")):
            mine = choices(world, name[:-1], "north")[0].values[name[:-1]]
            mixed = [mine, *_south_reference(world, name)]
            body = plausible_body(operation, 1, {name: mixed})
            requests.append((f"API {operation.label} {name}={mixed}", api_request(client, operation, {}, 1, body)))
    bulk_url = reverse("customers:customer_bulk")
    mixed_ids = [world.north.person.pk, *_south_reference(world, "customer_ids")]
    for action, extra in {
        "assign": {"owner_id": world.org.rep_north.pk},
        "tag": {"tag_id": world.spare_tag.pk},
        "return": {"reason": FILLER},
    }.items():
        form = {"action": action, "ids": mixed_ids, **extra}
        for htmx in (False, True):
            label = f"page POST{' (htmx)' if htmx else ''} customers:customer_bulk action={action} ids={mixed_ids}"
            requests.append((label, partial(pages.post, bulk_url, form, headers=htmx_headers(htmx))))
    assert len(requests) >= 8, "the discovery found too few bulk actions"
    for label, request in requests:
        before = south_rows(world)
        response = recorder.send(label, request)
        if response.status_code >= 500:
            recorder.fail(f"{label}: answered {response.status_code}")
        after = south_rows(world)
        if after != before:
            recorder.fail(f"{label}: changed rep_south's records: {describe_change(before, after)}")
    recorder.finish("bulk requests with mixed ids")
