"""Who approves a step: managers up the team tree, roles within a part of the tree, named users; never the
requester, whose manager stands in."""

from __future__ import annotations

from typing import Any

from guanxi.platform.approvals.approvers import escalation_targets, manager_of, resolve_step
from guanxi.platform.approvals.models import ApprovalAssignment, ApprovalStep
from guanxi.platform.approvals.services import approval_start
from tests.factories import TeamFactory, UserFactory, actor, role
from tests.platform.approvals.conftest import GADGET, GadgetStore, make_process, step


def _names(approvers: list[Any]) -> list[tuple[str, str]]:
    return [(a.user.username, a.via) for a in approvers]


def test_manager_of_the_requester_is_found_up_the_team_tree(org: Any) -> None:
    # 北京组 (north_sub) has no manager: its parent 华北销售's manager approves.
    assert manager_of(org.rep_north_sub) == org.manager_north
    assert manager_of(org.rep_north) == org.manager_north
    # The manager of 华北销售 skips themselves; head office has no manager yet, so nobody.
    assert manager_of(org.manager_north) is None
    org.hq.manager = org.admin
    org.hq.save()
    assert manager_of(org.manager_north) == org.admin
    # An inactive manager is skipped too.
    org.manager_north.is_active = False
    org.manager_north.save()
    assert manager_of(org.rep_north_sub) == org.admin
    assert manager_of(UserFactory(team=None)) is None


def test_manager_step_resolution_through_a_request(org: Any, store: GadgetStore) -> None:
    process = make_process(org, [step("manager")])
    gadget = store.add("茶具", org.rep_north_sub)
    request = approval_start(
        actor=actor(org.rep_north_sub), process_id=process.pk, approvable_type=GADGET, object_id=gadget.id
    )
    assert list(ApprovalAssignment.objects.filter(request=request).values_list("user__username", "via")) == [
        ("manager_north", "manager")
    ]


def test_role_steps_ask_everyone_with_the_role_within_the_chosen_part_of_the_tree(org: Any) -> None:
    manager = role("sales_manager")
    sub_manager = UserFactory(username="sub_manager", team=org.north_sub, role=manager)
    south_manager = UserFactory(username="south_manager", team=org.south, role=manager)
    anywhere = ApprovalStep(approver_kind="role", role=manager, role_scope="anyone", position=1)
    subtree = ApprovalStep(approver_kind="role", role=manager, role_scope="team_subtree", position=1)
    chain = ApprovalStep(approver_kind="role", role=manager, role_scope="team_chain", position=1)
    assert _names(resolve_step(anywhere, org.rep_north)) == [
        ("manager_north", "role"),
        (sub_manager.username, "role"),
        (south_manager.username, "role"),
    ]
    assert _names(resolve_step(subtree, org.rep_north)) == [("manager_north", "role"), ("sub_manager", "role")]
    assert _names(resolve_step(chain, org.rep_north_sub)) == [("manager_north", "role"), ("sub_manager", "role")]
    assert _names(resolve_step(subtree, org.rep_north_sub)) == [("sub_manager", "role")]
    assert _names(resolve_step(chain, org.rep_south)) == [("south_manager", "role")]


def test_the_requester_never_approves_their_own_request(org: Any) -> None:
    manager = role("sales_manager")
    only_manager = ApprovalStep(approver_kind="role", role=manager, role_scope="team_chain", position=1)
    # Nobody at all: an empty list (approval_start refuses it, naming the step).
    assert resolve_step(only_manager, org.manager_north) == []
    org.hq.manager = org.admin
    org.hq.save()
    # manager_north is the only sales manager in the chain: left out, their own manager stands in.
    assert _names(resolve_step(only_manager, org.manager_north)) == [("admin", "manager")]
    named_self = ApprovalStep(approver_kind="user", user=org.manager_north, position=1)
    assert _names(resolve_step(named_self, org.manager_north)) == [("admin", "manager")]
    assert _names(resolve_step(named_self, org.rep_north)) == [("manager_north", "user")]


def test_escalation_targets_are_the_approvers_managers_or_a_named_user(org: Any) -> None:
    org.hq.manager = org.admin
    org.hq.save()
    deputy = UserFactory(username="deputy", team=TeamFactory(name="风控", parent=org.hq))
    to_manager = ApprovalStep(approver_kind="manager", escalate_to="manager", position=1)
    to_user = ApprovalStep(approver_kind="manager", escalate_to="user", escalation_user=deputy, position=1)
    assert escalation_targets(to_manager, [org.manager_north], org.rep_north) == [org.admin]
    assert escalation_targets(to_user, [org.manager_north], org.rep_north) == [deputy]
    # Never the requester, nor someone already asked.
    assert escalation_targets(to_manager, [org.manager_north], org.admin) == []
    assert escalation_targets(to_user, [deputy], org.rep_north) == []
