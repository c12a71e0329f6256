"""The `prefix` lookup finds exactly the values that start with the text, on both databases."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanxi.platform.annotations.models import Tag

VALUES = ["abc", "abcd", "ab", "Abc", "a%c", "a_c", "a\\c", "张伟", "张伟明", "张", "x\U0010fffe"]


@pytest.fixture
def tags(db: None) -> None:
    Tag.objects.bulk_create([Tag(name=value, color="blue") for value in VALUES])


def names(prefix: str) -> set[str]:
    return set(Tag.objects.filter(name__prefix=prefix).values_list("name", flat=True))


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("ab", {"abc", "abcd", "ab"}),
        ("abc", {"abc", "abcd"}),
        ("A", {"Abc"}),
        ("a%", {"a%c"}),
        ("a_", {"a_c"}),
        ("a\\", {"a\\c"}),
        ("张伟", {"张伟", "张伟明"}),
        ("张", {"张伟", "张伟明", "张"}),
        ("x", {"x\U0010fffe"}),
        ("q", set()),
    ],
)
def test_prefix_matches_exactly_the_values_starting_with_it(tags: None, prefix: str, expected: set[str]) -> None:
    assert names(prefix) == expected


def test_prefix_is_written_so_an_ordinary_index_serves_it(tags: None) -> None:
    with CaptureQueriesContext(connection) as captured:
        names("ab")
    sql = captured.captured_queries[0]["sql"]
    if connection.vendor == "postgresql":
        assert "LIKE 'ab%'" in sql and "UPPER" not in sql
    else:
        assert ">= 'ab'" in sql and "LIKE" not in sql


def test_prefix_refuses_anything_but_a_string(tags: None) -> None:
    with pytest.raises(TypeError):
        names(5)  # type: ignore[arg-type]
