"""The Simplified Chinese catalogue is complete, compiled, and used by the pages.

The catalogue check fails on purpose when someone adds a string without translating it:
run `make messages`, translate the new entries in django.po, and commit the .po and the .mo.
"""

from __future__ import annotations

import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.urls import reverse

LOCALE_DIR = Path(settings.LOCALE_PATHS[0]) / "zh_Hans" / "LC_MESSAGES"
PO_PATH = LOCALE_DIR / "django.po"
MO_PATH = LOCALE_DIR / "django.mo"

# %(name)s, %s, %d, %5.2f...; "%%" is a literal percent sign, not a placeholder.
PERCENT_PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(?:\d+|\*)?(?:\.(?:\d+|\*))?[diouxXeEfFgGcrsa%]")
BRACE_PLACEHOLDER = re.compile(r"\{[^{}]*\}")


@pytest.fixture(scope="module")
def catalogue() -> polib.POFile:
    return polib.pofile(str(PO_PATH))


def live_entries(po: polib.POFile) -> list[polib.POEntry]:
    return [entry for entry in po if not entry.obsolete]


def placeholders(text: str, *, brace: bool) -> set[str]:
    pattern = BRACE_PLACEHOLDER if brace else PERCENT_PLACEHOLDER
    return {found for found in pattern.findall(text) if found != "%%"}


def translations(entry: polib.POEntry) -> list[str]:
    if entry.msgid_plural:
        return [entry.msgstr_plural[index] for index in sorted(entry.msgstr_plural)]
    return [entry.msgstr]


def describe(entry: polib.POEntry) -> str:
    where = ", ".join(f"{path}:{line}" for path, line in entry.occurrences[:2])
    return f"{entry.msgid!r} ({where})"


def test_catalogue_declares_chinese_plural_forms(catalogue):
    assert catalogue.metadata.get("Plural-Forms", "").replace(" ", "") == "nplurals=1;plural=0;"
    assert not catalogue.metadata_is_fuzzy


def test_every_entry_is_translated(catalogue):
    untranslated = [describe(entry) for entry in live_entries(catalogue) if not entry.translated()]
    assert not untranslated, "Translate these in django.po, then run make messages:\n" + "\n".join(untranslated)


def test_no_entry_is_fuzzy(catalogue):
    fuzzy = [describe(entry) for entry in live_entries(catalogue) if "fuzzy" in entry.flags]
    assert not fuzzy, "Check these guesses and remove their fuzzy flag:\n" + "\n".join(fuzzy)


def test_every_plural_entry_has_its_one_chinese_form(catalogue):
    wrong = [
        describe(entry) for entry in live_entries(catalogue) if entry.msgid_plural and set(entry.msgstr_plural) != {0}
    ]
    assert not wrong


def test_translations_keep_the_placeholders(catalogue):
    wrong = []
    for entry in live_entries(catalogue):
        brace = "python-brace-format" in entry.flags
        if not brace and "python-format" not in entry.flags:
            continue
        # Chinese has one plural form, so it shows the plural English text's placeholders.
        expected = placeholders(entry.msgid_plural or entry.msgid, brace=brace)
        for text in translations(entry):
            if text and placeholders(text, brace=brace) != expected:
                wrong.append(f"{describe(entry)} -> {text!r}")
    assert not wrong, "These translations lose or add placeholders:\n" + "\n".join(wrong)


def test_compiled_catalogue_matches_the_po(catalogue):
    def content(mo: polib.MOFile) -> dict[tuple[str | None, str], object]:
        return {
            (entry.msgctxt, entry.msgid): (entry.msgid_plural, dict(entry.msgstr_plural) or entry.msgstr)
            for entry in mo
            if entry.msgid  # the header is compared through its metadata below
        }

    expected = polib.mofile(catalogue.to_binary())
    committed = polib.mofile(str(MO_PATH))
    assert content(committed) == content(expected), "django.mo is stale: run make messages (compilemessages)"
    assert committed.metadata.get("Plural-Forms") == catalogue.metadata.get("Plural-Forms")


@pytest.mark.parametrize(
    ("language", "expected", "absent"),
    [("zh-hans", ["工作台", "客户"], ["Workbench"]), ("en", ["Workbench", "Customers"], ["工作台"])],
)
@pytest.mark.parametrize("url_name", ["ui:workbench", "customers:customer_list"])
def test_pages_speak_the_users_language(client, org, language, expected, absent, url_name):
    user = org.rep_north
    user.language = language
    user.save(update_fields=["language"])
    client.force_login(user)

    response = client.get(reverse(url_name), headers={"Accept-Language": "de"})

    assert response.status_code == 200
    html = response.content.decode()
    assert f'<html lang="{language}">' in html
    for text in expected:
        assert text in html
    for text in absent:
        assert text not in html


def test_customer_list_labels_are_translated(client, org):
    org.rep_north.language = "zh-hans"
    org.rep_north.save(update_fields=["language"])
    client.force_login(org.rep_north)

    html = client.get(reverse("customers:customer_list")).content.decode()

    for text in ("新建客户", "筛选客户", "下次跟进", "退出登录"):
        assert text in html
    for text in ("New customer", "Filter customers", "Next follow-up", "Sign out"):
        assert text not in html


@pytest.mark.parametrize(
    ("accept_language", "expected", "absent"),
    [("zh-CN,zh;q=0.9,en;q=0.8", "登录", "Sign in"), ("en-US,en;q=0.9", "Sign in", "登录")],
)
def test_anonymous_visitor_gets_the_browsers_language(client, db, accept_language, expected, absent):
    response = client.get(reverse("ui:login"), headers={"Accept-Language": accept_language})

    assert response.status_code == 200
    html = response.content.decode()
    assert expected in html
    assert absent not in html
