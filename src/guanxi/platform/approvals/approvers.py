"""Who approves a step: resolving a step's approver rule for a requester, and escalation targets.

Rules (also in the user guide):
- role: every active user with the role, anywhere or limited to the requester's team (with its sub-teams, or
  with the teams above it); "any one of" them decides.
- manager: the manager of the requester's team; when there is none, or the requester manages that team
  themselves, the manager of the team above, and so on up the tree.
- user: the named user, when active.
Nobody approves their own request: the requester is left out, and when that leaves a step without an
approver, the requester's manager is asked instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q
from django.utils.translation import gettext as _

from guanxi.platform.approvals.models import ApprovalStep, ApproverKind, AssignedVia, EscalateTo, RoleScope
from guanxi.platform.approvals.permissions import APPROVALS_MANAGE
from guanxi.platform.identity.models import Role, Team, User


@dataclass(frozen=True)
class Approver:
    user: User
    via: str


def _ancestor_team_ids(team: Team) -> list[int]:
    """The team and every team above it, nearest first (from the materialised path, else by parents)."""
    ids = [int(part) for part in team.path.strip("/").split("/") if part.isdigit()]
    if ids and ids[-1] == team.pk:
        return list(reversed(ids))
    chain: list[int] = []
    current: Team | None = team
    while current is not None and current.pk not in chain:
        chain.append(current.pk)
        current = current.parent
    return chain


def manager_of(user: User, *, exclude: frozenset[int] = frozenset()) -> User | None:
    """The nearest active manager above `user` who is not `user` (nor in `exclude`), walking up the teams."""
    if user.team_id is None:
        return None
    team = user.team if user.team is not None else Team.objects.get(pk=user.team_id)
    chain = _ancestor_team_ids(team)
    teams = {t.pk: t for t in Team.objects.filter(pk__in=chain).select_related("manager")}
    skip = exclude | {user.pk}
    for team_id in chain:
        found = teams.get(team_id)
        manager = found.manager if found is not None else None
        if manager is not None and manager.is_active and manager.pk not in skip:
            return manager
    return None


def _role_users(step: ApprovalStep, requester: User) -> list[User]:
    if step.role_id is None:
        return []
    qs = User.objects.filter(role_id=step.role_id, is_active=True)
    if step.role_scope in (RoleScope.TEAM_SUBTREE, RoleScope.TEAM_CHAIN):
        team = requester.team
        if team is None:
            return []
        if step.role_scope == RoleScope.TEAM_SUBTREE:
            qs = qs.filter(team__path__startswith=team.path) if team.path else qs.filter(team_id=team.pk)
        else:
            qs = qs.filter(team_id__in=_ancestor_team_ids(team))
    return list(qs.order_by("id"))


def resolve_step(step: ApprovalStep, requester: User) -> list[Approver]:
    """The approvers of `step` for `requester`: never the requester, whose manager stands in when the step
    would otherwise be left without anyone. Empty when nobody can approve it."""
    approvers: list[Approver] = []
    if step.approver_kind == ApproverKind.ROLE:
        approvers = [Approver(u, AssignedVia.ROLE) for u in _role_users(step, requester) if u.pk != requester.pk]
    elif step.approver_kind == ApproverKind.USER:
        named = step.user
        if named is not None and named.is_active and named.pk != requester.pk:
            approvers = [Approver(named, AssignedVia.USER)]
    if not approvers:
        manager = manager_of(requester)
        if manager is not None:
            approvers = [Approver(manager, AssignedVia.MANAGER)]
    return approvers


def fallback_approvers(requester: User) -> list[Approver]:
    """The approval administrators (approvals.manage), when a step found nobody after it was submitted."""
    roles = [r.pk for r in Role.objects.all() if APPROVALS_MANAGE in (r.permissions or [])]
    qs = User.objects.filter(Q(role_id__in=roles) | Q(is_superuser=True), is_active=True).exclude(pk=requester.pk)
    return [Approver(u, AssignedVia.FALLBACK) for u in qs.order_by("id")]


def unresolved_message(step: ApprovalStep, number: int) -> str:
    """Why nobody can approve step `number`, in words an administrator can act on."""
    if step.approver_kind == ApproverKind.ROLE:
        role = step.role.name if step.role is not None else "?"
        return _(
            "Nobody can approve step %(n)s: no other active user has the role “%(role)s” there, and no manager "
            "was found above the requester."
        ) % {"n": number, "role": role}
    if step.approver_kind == ApproverKind.USER:
        return _(
            "Nobody can approve step %(n)s: its approver is inactive or is the requester, and no manager was "
            "found above the requester."
        ) % {"n": number}
    return _("Nobody can approve step %(n)s: no manager was found above the requester in the team tree.") % {
        "n": number
    }


def escalation_targets(step: ApprovalStep, approvers: list[User], requester: User) -> list[User]:
    """Who a timed-out step is escalated to: each approver's manager, or the step's named user; never the
    requester nor someone already asked."""
    already = frozenset(u.pk for u in approvers) | {requester.pk}
    targets: dict[int, User] = {}
    if step.escalate_to == EscalateTo.MANAGER:
        for approver in approvers:
            manager = manager_of(approver, exclude=already)
            if manager is not None:
                targets[manager.pk] = manager
    elif step.escalate_to == EscalateTo.USER:
        named = step.escalation_user
        if named is not None and named.is_active and named.pk not in already:
            targets[named.pk] = named
    return list(targets.values())
