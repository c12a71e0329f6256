"""Reads of the UI layer's own records: the saved views a user may pick on a list page."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from guanxi.platform.core.actors import Actor
from guanxi.platform.ui.models import SavedView


def saved_views_for(*, actor: Actor, target: str) -> QuerySet[SavedView]:
    """The actor's own views of a list and the views others shared, by name."""
    return (
        SavedView.objects.filter(Q(user=actor.user) | Q(is_shared=True), target=target)
        .select_related("user")
        .order_by("name", "id")
    )
