"""Navigation entries and workbench panels contributed by domain apps."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.utils.functional import Promise


@dataclass(frozen=True)
class NavItem:
    code: str
    label: Promise | str
    url_name: str
    permission: str | None = None
    order: int = 100
    section: str = "main"  # "main" or "settings"
    shortcut: str = ""


@dataclass(frozen=True)
class WorkbenchPanel:
    code: str
    template: str
    context: Callable[[HttpRequest], dict[str, Any]]
    order: int = 100


_nav: dict[str, NavItem] = {}
_panels: dict[str, WorkbenchPanel] = {}


def register_nav_item(item: NavItem) -> None:
    _nav[item.code] = item


def nav_items(section: str = "main") -> list[NavItem]:
    return sorted((i for i in _nav.values() if i.section == section), key=lambda i: i.order)


def register_workbench_panel(panel: WorkbenchPanel) -> None:
    _panels[panel.code] = panel


def workbench_panels() -> list[WorkbenchPanel]:
    return sorted(_panels.values(), key=lambda p: p.order)
