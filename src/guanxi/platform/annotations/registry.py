"""Which record types take annotations, and how to fetch one of them as a given actor.

A domain app registers each annotatable model with a getter that applies visible_to(actor),
so annotations are never reachable through a record the actor may not see.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models

from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import NotFound


@dataclass(frozen=True)
class AnnotatedType:
    code: str  # "customers.customer"
    model: type[models.Model]
    get_visible: Callable[[Actor, int], Any]  # the record, or raises NotFound
    filter_visible: Callable[[Actor, list[int]], list[int]]  # the ids among these the actor may see
    can_change: Callable[[Actor, Any], bool]


_types: dict[str, AnnotatedType] = {}


def register_annotated(
    code: str,
    model: type[models.Model],
    *,
    get_visible: Callable[[Actor, int], Any],
    filter_visible: Callable[[Actor, list[int]], list[int]],
    can_change: Callable[[Actor, Any], bool],
) -> None:
    _types[code] = AnnotatedType(
        code=code, model=model, get_visible=get_visible, filter_visible=filter_visible, can_change=can_change
    )


def annotated_type(code: str) -> AnnotatedType | None:
    return _types.get(code)


def annotated_type_for_model(model: type[models.Model]) -> AnnotatedType | None:
    for spec in _types.values():
        if spec.model is model:
            return spec
    return None


def require_annotated_type(code: str) -> AnnotatedType:
    """The registered type `code`, or NotFound: an unknown type is as absent as a hidden record."""
    spec = _types.get(code)
    if spec is None:
        raise NotFound()
    return spec


def visible_record(actor: Actor, code: str, object_id: int) -> tuple[AnnotatedType, Any]:
    """The type and the record the actor wants to annotate, if they may see it; NotFound otherwise."""
    spec = require_annotated_type(code)
    return spec, spec.get_visible(actor, int(object_id))
