"""QuickSelect writes the same <select> markup as Django's template-rendered Select."""

from __future__ import annotations

import pytest
from django import forms

from guanxi.platform.ui.widgets import QuickSelect

CHOICES = [("", "Anyone"), ("1", "张伟 <admin>"), ("2", "Li & Co"), (3, "三")]


def _normalised(html: str) -> str:
    return "".join(line.strip() for line in html.splitlines())


@pytest.mark.parametrize("value", [None, "", "1", "2", 3, "missing"])
def test_markup_matches_djangos_select(value: object) -> None:
    attrs = {"id": "id_owner", "aria-invalid": "true", "required": True}
    ours = QuickSelect(choices=CHOICES).render("owner", value, attrs)
    django = forms.Select(choices=CHOICES).render("owner", value, attrs)
    assert _normalised(ours) == _normalised(django)


def test_labels_and_values_are_escaped() -> None:
    html = QuickSelect(choices=[('"><script>', "<b>x</b>")]).render("f", None)
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html


def test_option_groups_fall_back_to_djangos_rendering() -> None:
    choices = [("Group", [("a", "A"), ("b", "B")])]
    assert _normalised(QuickSelect(choices=choices).render("f", "b")) == _normalised(
        forms.Select(choices=choices).render("f", "b")
    )
