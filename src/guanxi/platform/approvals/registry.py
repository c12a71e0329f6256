"""Record types that can be approved ("approvables"); domain apps register theirs from `AppConfig.ready()`.

    register_approvable(ApprovableType(
        key="sales.quote",
        label=_("Quote"),
        get_visible=lambda actor, object_id: quote_get(actor=actor, quote_id=object_id),  # NotFound if hidden
        describe=lambda quote: f"{quote.number} {quote.customer.name}",
        url=lambda quote: reverse("sales:quote_detail", args=[quote.pk]),
        on_decided=quote_apply_approval,  # (quote, request), in the deciding transaction
        amount=lambda quote: (quote.total, quote.currency),
    ))

The platform never imports a domain app: everything it needs to know about a record goes through these
callables. `on_decided` runs inside the transaction that approves, rejects or returns the request, so a
failure there rolls the decision back; it is not called for cancelled requests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.utils.functional import Promise

from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import NotFound

if TYPE_CHECKING:
    from guanxi.platform.approvals.models import ApprovalRequest


def _nothing(obj: Any, request: ApprovalRequest) -> None:
    return None


@dataclass(frozen=True)
class ApprovableType:
    """How the approvals platform reaches records of one type.

    - `get_visible(actor, object_id)`: the record if the actor may see it; raises NotFound otherwise.
    - `describe(obj)`: a short text naming the record ("上海明达 · 特价 8 折"), kept on the request.
    - `url(obj)`: the record's page.
    - `on_decided(obj, request)`: called when a request ends approved, rejected or returned
      (`request.status` says which), in the same transaction.
    - `load(object_id)`: the record regardless of visibility (for deciding and for system-started requests);
      raises NotFound when it is gone. Without it, the requester's view of the record is used.
    - `summary(obj)`, `amount(obj) -> (Decimal, currency) | None`: extra columns for the inbox.
    """

    key: str
    label: str | Promise
    get_visible: Callable[[Actor, int], Any]
    describe: Callable[[Any], str]
    url: Callable[[Any], str]
    on_decided: Callable[[Any, ApprovalRequest], None] = _nothing
    load: Callable[[int], Any] | None = None
    summary: Callable[[Any], str] | None = None
    amount: Callable[[Any], tuple[Decimal, str] | None] | None = None


_types: dict[str, ApprovableType] = {}


def register_approvable(approvable: ApprovableType) -> None:
    """Register (or replace: apps' ready() may run twice in tests) an approvable type."""
    _types[approvable.key] = approvable


def unregister_approvable(key: str) -> None:
    """Forget a type (tests register their own and remove it afterwards)."""
    _types.pop(key, None)


def approvable_type(key: str) -> ApprovableType | None:
    return _types.get(key)


def approvable_types() -> dict[str, ApprovableType]:
    return dict(sorted(_types.items()))


def approvable_type_choices() -> list[tuple[str, str]]:
    return [(key, str(item.label)) for key, item in approvable_types().items()]


def approvable_label(key: str) -> str:
    item = _types.get(key)
    return str(item.label) if item is not None else key


def require_approvable(key: str) -> ApprovableType:
    """The registered type `key`, or NotFound (an unknown type is as absent as a hidden record)."""
    item = _types.get(key)
    if item is None:
        raise NotFound()
    return item


def load_record(approvable: ApprovableType, object_id: int, requester: Any) -> Any:
    """The record for the platform's own use (deciding, system starts): `load`, else as the requester sees it."""
    if approvable.load is not None:
        return approvable.load(object_id)
    return approvable.get_visible(Actor(user=requester, channel="system"), object_id)
