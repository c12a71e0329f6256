"""API plumbing shared by every router: the actor, the one error format, declared status codes."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Annotated, Any, TypeVar

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import Header, NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from pydantic import ConfigDict, Field, WithJsonSchema

from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import DomainError, PermissionDenied, ValidationFailed
from guanxi.platform.core.pagination import Page

S = TypeVar("S", bound=Schema)

# The largest primary key both databases store (a signed 64-bit integer). An id beyond it names nothing, and
# sending it to the database would fail (SQLite: OverflowError, PostgreSQL: "out of range"), so the schema
# refuses it with 422 before any query runs.
MAX_RECORD_ID = 2**63 - 1
RecordId = Annotated[int, Field(ge=1, le=MAX_RECORD_ID)]


def listed_choices(values: Iterable[str]) -> WithJsonSchema:
    """For `Annotated[str, listed_choices(...)]`: a text the service checks against `values` (answering with
    its own message); the schema lists them, so clients know them and nobody sends a value the schema allows
    but the service refuses."""
    return WithJsonSchema({"type": "string", "enum": list(values)})


class ErrorBody(Schema):
    code: str
    message: str
    fields: dict[str, list[str]] = {}


class ErrorOut(Schema):
    error: ErrorBody


ERROR_STATUSES = (400, 401, 403, 404, 409, 412, 422)
# Updates that need the version the client read (If-Match or "version") may also answer 428.
UPDATE_ERROR_STATUSES = (*ERROR_STATUSES, 428)


class CsrfFailed(PermissionDenied):
    code = "csrf_failed"
    default_message = gettext_lazy(
        "The CSRF token is missing or not valid. Send the X-CSRFToken header with the csrftoken cookie's value."
    )


class PreconditionRequired(DomainError):
    """An update came without the version it is based on, so it could overwrite someone else's change."""

    code = "precondition_required"
    status = 428
    default_message = gettext_lazy(
        'Send the version you read, in the If-Match header or as "version" in the body, '
        "so that nobody else's changes are overwritten."
    )


class Payload(Schema):
    """Base of every request body: unknown fields are an error, never silently ignored."""

    model_config = ConfigDict(extra="forbid")


# Lists -------------------------------------------------------------------------------------------

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


class PageQuery(Schema):
    """The paging parameters of every list: `cursor` (the previous page's `next_cursor`) and `limit`."""

    cursor: str | None = Field(None, description="`next_cursor` of the previous page.")
    limit: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="Rows per page.")


def page_out(schema: type[S], page: Page[Any], render: Callable[[Any], Any]) -> S:
    """The `{"items": [...], "next_cursor": ...}` response of one page, each row rendered by `render`."""
    fields: dict[str, Any] = {"items": [render(row) for row in page.items], "next_cursor": page.next_cursor}
    return schema(**fields)


# Versions ----------------------------------------------------------------------------------------

# Declared on the routes that take a version, for the OpenAPI schema; expected_version() reads the header.
IF_MATCH = Header(None, alias="If-Match", description='The version you read, as the ETag gave it: "3".')


def etag_for(version: int) -> str:
    """The ETag of a record version; clients send it back in If-Match."""
    return f'"{version}"'


def expected_version(request: HttpRequest, body_version: int | None) -> int:
    """The version an update is based on: the If-Match header ("3", W/"3" or 3) or "version" in the body.

    Neither: PreconditionRequired (428). Both but different: ValidationFailed on "version".
    """
    header = request.headers.get("If-Match", "").strip()
    header_version: int | None = None
    if header:
        tag = header.removeprefix("W/").strip().strip('"')
        if not tag.isdigit():
            raise ValidationFailed.for_field("If-Match", _('Send the version you read, such as "3".'))
        header_version = int(tag)
    if header_version is not None and body_version is not None and header_version != body_version:
        raise ValidationFailed.for_field("version", _("The version in the body differs from the If-Match header."))
    version = header_version if header_version is not None else body_version
    if version is None:
        raise PreconditionRequired()
    return version


def optional_version(request: HttpRequest, body_version: int | None) -> int | None:
    """For actions (qualify, complete...): the version is checked when the client sends one, not required."""
    try:
        return expected_version(request, body_version)
    except PreconditionRequired:
        return None


def responses(ok: Any, *, status: int = 200, errors: tuple[int, ...] = ERROR_STATUSES) -> dict[int, Any]:
    """Every route declares its success schema and the error statuses it can answer."""
    declared: dict[int, Any] = {status: ok}
    for code in errors:
        declared[code] = ErrorOut
    return declared


def actor_of(request: HttpRequest) -> Actor:
    actor = getattr(request, "auth", None)
    if not isinstance(actor, Actor):
        raise AuthenticationError()
    return actor


def error_response(
    api: NinjaAPI,
    request: HttpRequest,
    status: int,
    code: str,
    message: str,
    fields: dict[str, list[str]] | None = None,
) -> HttpResponse:
    return api.create_response(
        request, {"error": {"code": code, "message": message, "fields": fields or {}}}, status=status
    )


_TYPE_MESSAGES: dict[str, Any] = {
    "missing": gettext_lazy("This field is required."),
    "extra_forbidden": gettext_lazy("Unknown field."),
    "int_parsing": gettext_lazy("Enter a whole number."),
    "int_type": gettext_lazy("Enter a whole number."),
    "int_from_float": gettext_lazy("Enter a whole number."),
    "float_parsing": gettext_lazy("Enter a number."),
    "float_type": gettext_lazy("Enter a number."),
    "decimal_parsing": gettext_lazy("Enter a number."),
    "bool_parsing": gettext_lazy("Enter true or false."),
    "bool_type": gettext_lazy("Enter true or false."),
    "string_type": gettext_lazy("Enter text."),
    "string_unicode": gettext_lazy("Enter text without broken characters (invalid Unicode)."),
    "date_parsing": gettext_lazy("Enter a date as YYYY-MM-DD."),
    "date_type": gettext_lazy("Enter a date as YYYY-MM-DD."),
    "date_from_datetime_parsing": gettext_lazy("Enter a date as YYYY-MM-DD."),
    "date_from_datetime_inexact": gettext_lazy("Enter a date as YYYY-MM-DD."),
    "datetime_parsing": gettext_lazy("Enter a date and time such as 2025-01-31T09:30:00+08:00."),
    "datetime_type": gettext_lazy("Enter a date and time such as 2025-01-31T09:30:00+08:00."),
    "datetime_from_date_parsing": gettext_lazy("Enter a date and time such as 2025-01-31T09:30:00+08:00."),
    "list_type": gettext_lazy("Send a list."),
    "dict_type": gettext_lazy("Send an object."),
    "model_type": gettext_lazy("Send an object."),
    "model_attributes_type": gettext_lazy("Send an object."),
    "json_invalid": gettext_lazy("The request body is not valid JSON."),
}
_CONTEXT_MESSAGES: dict[str, Any] = {
    "enum": gettext_lazy("Choose one of: %(expected)s."),
    "literal_error": gettext_lazy("Choose one of: %(expected)s."),
    "string_too_long": gettext_lazy("Enter at most %(max_length)s characters."),
    "too_long": gettext_lazy("Send at most %(max_length)s items."),
    "too_short": gettext_lazy("Send at least %(min_length)s items."),
    "greater_than_equal": gettext_lazy("Enter a number of at least %(ge)s."),
    "less_than_equal": gettext_lazy("Enter a number of at most %(le)s."),
}


def _validation_message(err: dict[str, Any]) -> str:
    """A translated message for a schema (pydantic) error; pydantic's own English text as the fallback."""
    kind = str(err.get("type", ""))
    if kind in _TYPE_MESSAGES:
        return str(_TYPE_MESSAGES[kind])
    ctx = err.get("ctx") or {}
    if kind in _CONTEXT_MESSAGES:
        try:
            return str(_CONTEXT_MESSAGES[kind]) % {k: str(v) for k, v in ctx.items()}
        except (KeyError, TypeError, ValueError):
            pass
    return str(err.get("msg", ""))


def _loc_to_field(loc: Any) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie", "form", "payload", "data")]
    out = ""
    for part in parts:
        out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
    return out or "request"


_HTTP_ERROR_CODES = {403: "permission_denied", 404: "not_found", 405: "method_not_allowed", 429: "throttled"}


def install_error_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(DomainError)
    def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        return error_response(api, request, exc.status, exc.code, exc.message, exc.fields)

    @api.exception_handler(NinjaValidationError)
    def validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        fields: dict[str, list[str]] = {}
        for err in exc.errors:
            fields.setdefault(_loc_to_field(err.get("loc", ())), []).append(_validation_message(err))
        return error_response(api, request, 422, "validation_error", _("Some fields are not valid."), fields)

    @api.exception_handler(AuthenticationError)
    def auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return error_response(api, request, 401, "unauthorized", _("Sign in or send a valid API token."))

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return error_response(api, request, 404, "not_found", _("Not found."))

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if exc.status_code == 400:  # django-ninja's "Cannot parse request body"
            return error_response(api, request, 400, "bad_request", _("The request body is not valid JSON."))
        return error_response(api, request, exc.status_code, _HTTP_ERROR_CODES.get(exc.status_code, "error"), str(exc))
