"""Writes of the UI layer's own records: saving and deleting saved views of list pages."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from django.db import transaction
from django.utils.translation import gettext as _

from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import NotFound, ValidationFailed
from guanxi.platform.core.text import clean_text
from guanxi.platform.ui.models import MAX_NAME_LENGTH, MAX_QUERY_LENGTH, SavedView

# Parameters that point at one page of a result, not at the result itself.
PAGE_PARAMS = frozenset({"cursor", "page"})


def clean_view_query(query: str) -> str:
    """Normalise a query string: drop empty values and page pointers, keep the order of the rest."""
    pairs = [
        (key, value)
        for key, value in parse_qsl(query.lstrip("?"), keep_blank_values=False)
        if key not in PAGE_PARAMS and value.strip()
    ]
    return urlencode(pairs)


@transaction.atomic
def saved_view_save(*, actor: Actor, target: str, name: str, query: str, is_shared: bool = False) -> SavedView:
    """Save the filters of a list under a name; saving again under the same name replaces them."""
    errors: dict[str, list[str]] = {}
    name = clean_text(name)
    if not name:
        errors["name"] = [_("Give the view a name.")]
    elif len(name) > MAX_NAME_LENGTH:
        errors["name"] = [_("Keep the name under %(n)s characters.") % {"n": MAX_NAME_LENGTH}]
    cleaned_query = clean_view_query(query or "")
    if len(cleaned_query) > MAX_QUERY_LENGTH:
        errors["query"] = [_("These filters are too long to save.")]
    target = clean_text(target)
    if not target or len(target) > 64:
        errors["target"] = [_("Choose a list.")]
    if errors:
        raise ValidationFailed(fields=errors)
    view = SavedView.objects.select_for_update().filter(user=actor.user, target=target, name=name).first()
    if view is None:
        view = SavedView(user=actor.user, target=target, name=name)
    else:
        view.bump_version()
    view.query = cleaned_query
    view.is_shared = bool(is_shared)
    view.save()
    return view


@transaction.atomic
def saved_view_delete(*, actor: Actor, saved_view_id: int) -> None:
    """Delete one of the actor's own saved views; views of others (even shared ones) are not found."""
    deleted, _rows = SavedView.objects.filter(pk=saved_view_id, user=actor.user).delete()
    if not deleted:
        raise NotFound(_("Saved view not found."))
