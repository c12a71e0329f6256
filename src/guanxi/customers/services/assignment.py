"""Automatic assignment of a customer to a member of a team: by round robin or by load.

- Round robin: the member whose last assignment (the newest `PoolEvent` of action "assigned" to them) is the
  oldest goes next; members never assigned go first, then by user id. Every assignment records such an event
  (`customers_assign_owner`), so the turn moves on without any other state, and assignments made by hand
  count as turns too.
- By load: the member owning the fewest open customers (every lifecycle stage but "churned") goes next;
  ties go to the lowest user id.

Candidates are the active members of the team (with `include_sub_teams`, of its sub-teams too) whose role
lets them see customers. Picking and assigning happen under a lock on the team row, so two rules assigning
at the same moment do not both pick the same member.
"""

from __future__ import annotations

from django.db import models, transaction
from django.db.models import Count, Max
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.customers.models import Customer, PoolEvent
from guanxi.customers.models.choices import LifecycleStage, PoolAction
from guanxi.customers.permissions import CUSTOMERS_VIEW
from guanxi.customers.services.customers import customers_assign_owner
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.errors import Conflict, NotFound, ValidationFailed
from guanxi.platform.identity.models import Team, User
from guanxi.platform.identity.scoping import has_permission


class AssignmentMethod(models.TextChoices):
    ROUND_ROBIN = "round_robin", gettext_lazy("Round robin")
    LOAD = "load", gettext_lazy("Fewest open customers")


class NoAssignee(Conflict):
    code = "no_assignee"


def assignment_candidates(*, team_id: int, include_sub_teams: bool = False) -> list[User]:
    """The active members of the team (and its sub-teams) who may see customers, by user id."""
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        raise ValidationFailed.for_field("team_id", _("Choose a team."))
    teams = Team.objects.filter(path__startswith=team.path) if include_sub_teams else Team.objects.filter(pk=team.pk)
    members = User.objects.filter(team__in=teams.values("pk"), is_active=True).order_by("pk")
    return [user for user in members if has_permission(user, CUSTOMERS_VIEW)]


def pick_assignee(*, team_id: int, method: str, include_sub_teams: bool = False) -> User:
    """The member the next customer goes to (reads only); NoAssignee when the team has nobody to take it."""
    candidates = assignment_candidates(team_id=team_id, include_sub_teams=include_sub_teams)
    if not candidates:
        team = Team.objects.filter(pk=team_id).first()
        raise NoAssignee(
            _("The team “%(team)s” has no active member who can take customers.") % {"team": team or team_id}
        )
    ids = [user.pk for user in candidates]
    if method == AssignmentMethod.LOAD:
        load = dict(
            Customer.objects.filter(owner__in=ids)
            .exclude(lifecycle_stage=LifecycleStage.CHURNED)
            .values("owner")
            .annotate(n=Count("pk"))
            .values_list("owner", "n")
        )
        return min(candidates, key=lambda user: (load.get(user.pk, 0), user.pk))
    if method != AssignmentMethod.ROUND_ROBIN:
        raise ValidationFailed.for_field("method", _("Choose round robin or by load."))
    last_turn = dict(
        PoolEvent.objects.filter(action=PoolAction.ASSIGNED, to_user__in=ids)
        .values("to_user")
        .annotate(last=Max("pk"))
        .values_list("to_user", "last")
    )
    return min(candidates, key=lambda user: (last_turn.get(user.pk, 0), user.pk))


@transaction.atomic
def customer_assign_within_team(
    *, actor: Actor, customer_id: int, team_id: int, method: str, include_sub_teams: bool = False
) -> User:
    """Give the customer to the member of the team whose turn it is (see the module docstring)."""
    Team.objects.select_for_update().filter(pk=team_id).first()
    owner = pick_assignee(team_id=team_id, method=method, include_sub_teams=include_sub_teams)
    if not customers_assign_owner(actor=actor, customer_ids=[customer_id], owner_id=owner.pk):
        raise NotFound(_("Customer not found."))
    return owner
