"""FilterParams: typed reads of query parameters that name every bad one; day ranges as whole days."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.db import models
from django.utils import timezone

from guanxi.platform.core.errors import ValidationFailed
from guanxi.platform.core.filters import FilterParams, day_range_q


class Colour(models.TextChoices):
    RED = "red", "Red"
    BLUE = "blue", "Blue"


def test_good_values_are_read_as_their_types() -> None:
    read = FilterParams(
        {
            "q": "  张伟  ",
            "n": "42",
            "day": "2025-06-03",
            "at": "2025-06-03T09:30:00+08:00",
            "colour": "red",
            "mine": "yes",
            "in_pool": "0",
            "cf.tier": "gold",
            "cf.empty": "",
        }
    )
    assert read.text("q") == "张伟"
    assert read.integer("n") == 42
    assert read.date("day") == dt.date(2025, 6, 3)
    assert read.datetime("at") == dt.datetime(2025, 6, 3, 1, 30, tzinfo=dt.UTC)
    assert read.choice("colour", Colour) == "red"
    assert read.choice("colour", ("red", "green")) == "red"
    assert read.boolean("mine") is True
    assert read.yes_no("in_pool") is False
    assert read.custom_fields() == {"cf.tier": "gold"}
    read.check()


def test_missing_values_mean_no_filter() -> None:
    read = FilterParams({})
    assert (read.text("q"), read.integer("n"), read.date("d"), read.datetime("t")) == ("", None, None, None)
    assert (read.choice("c", Colour), read.boolean("b")) == ("", False)
    assert (read.yes_no("y"), read.custom_fields()) == (None, {})
    read.check()


def test_every_bad_parameter_is_named_at_once() -> None:
    read = FilterParams({"n": "x", "day": "03/06/2025", "at": "soon", "colour": "green", "mine": "maybe"})
    read.integer("n")
    read.date("day")
    read.datetime("at")
    read.choice("colour", Colour)
    read.boolean("mine")
    with pytest.raises(ValidationFailed) as failed:
        read.check()
    assert failed.value.fields == {
        "n": ["Enter a whole number."],
        "day": ["Enter a date as YYYY-MM-DD."],
        "at": ["Enter a date and time such as 2025-03-01T09:30."],
        "colour": ["Choose a value from the list."],
        "mine": ["Use true or false."],
    }


def test_an_integer_given_apart_is_reported_under_the_parameter_name() -> None:
    read = FilterParams({"owner": "bob"})
    assert read.integer("owner", "bob") is None
    assert read.errors == {"owner": ["Enter a whole number."]}


def test_a_naive_date_time_is_read_in_the_current_time_zone() -> None:
    with timezone.override(zoneinfo.ZoneInfo("Asia/Shanghai")):
        assert FilterParams({"at": "2025-06-03T09:30"}).datetime("at") == dt.datetime(2025, 6, 3, 1, 30, tzinfo=dt.UTC)


def test_day_range_covers_whole_days_in_the_current_time_zone() -> None:
    with timezone.override(zoneinfo.ZoneInfo("Asia/Shanghai")):
        q = day_range_q("created_at", dt.date(2025, 6, 1), dt.date(2025, 6, 3))
    start = dt.datetime(2025, 5, 31, 16, 0, tzinfo=dt.UTC)
    end = dt.datetime(2025, 6, 3, 16, 0, tzinfo=dt.UTC)
    assert dict(q.children) == {"created_at__gte": start, "created_at__lt": end}
    assert day_range_q("created_at", None, None).children == []
