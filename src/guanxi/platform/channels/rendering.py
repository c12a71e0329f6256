"""Rendering message texts with merge fields: a restricted Django template engine of its own.

Message templates are written by people who manage templates, not by developers, so the engine is locked
down: no loaders (no {% include %}/{% extends %}), no libraries ({% load %} fails), autoescape off (the texts
are plain text: email bodies, SMS, WeChat), and only a short list of harmless tags and filters. Loops and
padding filters are left out on purpose: `{% for %}` nested over a long string or `center:"999999999"` could
make one render take minutes or gigabytes.

`check_text` reads a text the way `render_text` will and reports, with the line, every syntax error and every
variable that is not a merge field of the record type; `text_errors` does it for several fields against a
record type's merge fields. Services call it when a template is saved, so errors are found then, not when a
message is sent.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.template import Context, Engine, Library, TemplateSyntaxError, defaultfilters, defaulttags
from django.template.base import FilterExpression, Node, NodeList, Variable, VariableNode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.platform.channels.registry import MergeField, recipient_source

SAFE_TAGS = ("if", "with", "firstof", "comment", "now", "verbatim", "spaceless")
# The words that may appear inside those tags' blocks.
TAG_WORDS = frozenset(
    {"if", "elif", "else", "endif", "with", "endwith", "firstof", "comment", "endcomment", "now", "verbatim",
     "endverbatim", "spaceless", "endspaceless"}
)  # fmt: skip
SAFE_FILTERS = (
    "add", "capfirst", "cut", "date", "default", "default_if_none", "first", "join", "last", "length", "lower",
    "pluralize", "slice", "time", "title", "truncatechars", "truncatewords", "upper", "urlencode", "wordwrap",
    "yesno",
)  # fmt: skip

TEXT_FIELDS = ("subject_zh", "body_zh", "subject_en", "body_en")
UNSUBSCRIBE_FIELD = "unsubscribe_url"
PLATFORM_MERGE_FIELDS = (MergeField(UNSUBSCRIBE_FIELD, gettext_lazy("Unsubscribe link")),)


def _safe_library() -> Library:
    library = Library()
    library.tags = {name: defaulttags.register.tags[name] for name in SAFE_TAGS}
    library.filters = {name: defaultfilters.register.filters[name] for name in SAFE_FILTERS}
    return library


@functools.cache
def message_engine() -> Engine:
    """The engine for message texts: no loaders, no libraries, no autoescaping, only the safe builtins."""
    engine = Engine(
        dirs=[], app_dirs=False, loaders=[], libraries={}, builtins=[], autoescape=False, string_if_invalid=""
    )
    engine.template_builtins = [_safe_library()]  # replaces Django's default tags and filters
    return engine


def render_text(text: str, context: Mapping[str, Any]) -> str:
    """Render `text` with `context`; raises TemplateSyntaxError for a text that does not parse."""
    if not text:
        return ""
    template = message_engine().from_string(text)
    return template.render(Context(dict(context), autoescape=False))


@dataclass(frozen=True)
class TextProblem:
    line: int
    message: str

    def __str__(self) -> str:
        return _("Line %(line)s: %(problem)s") % {"line": self.line, "problem": self.message}


_QUOTED = re.compile(r"'([^']*)'")


def _syntax_message(error: TemplateSyntaxError) -> str:
    text = str(error)
    quoted = _QUOTED.findall(text)
    if text.startswith("Invalid block tag") and quoted:
        tag = quoted[0]
        if tag in TAG_WORDS:
            return _("“{%% %(tag)s %%}” is not expected here.") % {"tag": tag}
        return _("the tag “%(tag)s” cannot be used in message templates.") % {"tag": tag}
    if text.startswith("Unclosed tag") and quoted:
        closing = text.rsplit(" ", 1)[-1].rstrip(".")
        return _("“{%% %(tag)s %%}” is not closed; add “{%% %(closing)s %%}”.") % {
            "tag": quoted[0],
            "closing": closing,
        }
    if text.startswith("Invalid filter") and quoted:
        return _("the filter “%(filter)s” cannot be used in message templates.") % {"filter": quoted[0]}
    return _("this cannot be read as a template (%(error)s).") % {"error": text}


def _line_of(text: str, needle: str, from_line: int) -> int:
    """The first line at or after `from_line` holding `needle` (the tag's own line when none does)."""
    lines = text.splitlines()
    for number in range(max(from_line, 1), len(lines) + 1):
        if needle in lines[number - 1]:
            return number
    return max(from_line, 1)


class _VariableCollector:
    """Walks a compiled template and collects every variable it reads, with the line it is on."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.found: list[tuple[str, int]] = []
        self.assigned: set[str] = set()

    def expression(self, expression: Any, line: int, scope: frozenset[str]) -> None:
        if not isinstance(expression, FilterExpression):
            return
        self.variable(expression.var, line, scope)
        for _function, arguments in expression.filters:
            for is_lookup, value in arguments:
                if is_lookup:
                    self.variable(value, line, scope)

    def variable(self, variable: Any, line: int, scope: frozenset[str]) -> None:
        if not isinstance(variable, Variable) or variable.lookups is None:
            return  # a literal: a quoted text or a number
        if variable.lookups[0] in scope:
            return  # a name bound by {% with %} or "as"
        name = str(variable.var)
        self.found.append((name, _line_of(self.text, name, line)))

    def condition(self, condition: Any, line: int, scope: frozenset[str]) -> None:
        if condition is None:
            return
        value = getattr(condition, "value", None)
        if isinstance(value, FilterExpression):
            self.expression(value, line, scope)
        for part in ("first", "second"):
            child = getattr(condition, part, None)
            if child is not None:
                self.condition(child, line, scope)

    def nodes(self, nodelist: Iterable[Node], scope: frozenset[str]) -> None:
        for node in nodelist:
            self.node(node, scope)

    def node(self, node: Node, scope: frozenset[str]) -> None:
        token = getattr(node, "token", None)
        line = getattr(token, "lineno", 1) or 1
        if isinstance(node, VariableNode):
            self.expression(node.filter_expression, line, scope)
            return
        if isinstance(node, defaulttags.IfNode):
            for condition, nodelist in node.conditions_nodelists:
                self.condition(condition, line, scope)
                self.nodes(nodelist, scope)
            return
        if isinstance(node, defaulttags.WithNode):
            for value in node.extra_context.values():
                self.expression(value, line, scope)
            self.nodes(node.nodelist, scope | frozenset(node.extra_context))
            return
        if isinstance(node, defaulttags.FirstOfNode):
            for value in node.vars:
                self.expression(value, line, scope)
            if node.asvar:
                self.assigned.add(node.asvar)
            return
        if isinstance(node, defaulttags.NowNode):
            if node.asvar:
                self.assigned.add(node.asvar)
            return
        for attribute in getattr(node, "child_nodelists", ()):
            child = getattr(node, attribute, None)
            if isinstance(child, NodeList):
                self.nodes(child, scope)


def check_text(text: str, merge_fields: Iterable[str]) -> list[TextProblem]:
    """Every problem of `text`: its syntax error, or each variable that is not one of `merge_fields`."""
    if not text:
        return []
    try:
        template = message_engine().from_string(text)
    except TemplateSyntaxError as error:
        token = getattr(error, "token", None)
        return [TextProblem(getattr(token, "lineno", 1) or 1, _syntax_message(error))]
    collector = _VariableCollector(text)
    collector.nodes(template.nodelist, frozenset())
    known = set(merge_fields)
    problems: list[TextProblem] = []
    seen: set[str] = set()
    for name, line in collector.found:
        root = name.split(".", 1)[0]
        if name in known or root in collector.assigned or name in seen:
            continue
        seen.add(name)
        problems.append(TextProblem(line, _("“%(field)s” is not a merge field of this record type.") % {"field": name}))
    return problems


def uses_field(text: str, field: str) -> bool:
    """Whether `text` mentions the merge field `field` (e.g. whether a body already has its unsubscribe link)."""
    return bool(re.search(r"\{\{[^}]*\b" + re.escape(field) + r"\b", text or ""))


def merge_field_names(record_type: str) -> list[str]:
    source = recipient_source(record_type)
    names = [f.name for f in source.merge_fields()] if source is not None else []
    return [*names, *(f.name for f in PLATFORM_MERGE_FIELDS)]


def text_errors(texts: Mapping[str, str], record_type: str, *, prefix: str = "") -> dict[str, list[str]]:
    """Syntax errors and unknown merge fields of each text, by field name, each message naming its line."""
    names = merge_field_names(record_type)
    errors: dict[str, list[str]] = {}
    for field, text in texts.items():
        problems = check_text(text, names)
        if problems:
            errors[prefix + field] = [str(problem) for problem in problems]
    return errors
