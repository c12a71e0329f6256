"""Keyset pagination reads from the model whether the sort field may be NULL, so callers need not say."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from guanxi.customers.models import Task
from guanxi.platform.core.pagination import keyset_paginate
from tests.factories import TaskFactory


def _all_pages(sort: str) -> list[int]:
    seen: list[int] = []
    cursor = None
    while True:
        page = keyset_paginate(Task.objects.all(), sort=sort, cursor=cursor, page_size=2)
        seen += [task.pk for task in page.items]
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor


@pytest.mark.parametrize("sort", ["due_at", "-due_at"])
def test_rows_with_a_null_sort_value_come_last_and_every_row_once(org: Any, sort: str) -> None:
    soon = timezone.now() + dt.timedelta(days=1)
    dated = [TaskFactory(assignee=org.rep_north, due_at=soon + dt.timedelta(hours=h)) for h in (3, 1, 2)]
    undated = [TaskFactory(assignee=org.rep_north, due_at=None) for _ in range(3)]
    by_due = sorted(dated, key=lambda t: t.due_at, reverse=sort.startswith("-"))
    undated_order = sorted(undated, key=lambda t: t.pk, reverse=sort.startswith("-"))
    assert _all_pages(sort) == [t.pk for t in by_due] + [t.pk for t in undated_order]


def test_a_field_that_cannot_be_null_pages_the_same(org: Any) -> None:
    tasks = [TaskFactory(assignee=org.rep_north) for _ in range(5)]
    assert _all_pages("-id") == [t.pk for t in reversed(tasks)]
    assert _all_pages("title") == [t.pk for t in sorted(tasks, key=lambda t: (t.title, t.pk))]
