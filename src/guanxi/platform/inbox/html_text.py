"""HTML from senders turned into plain text: what a person would read, never markup to render.

Scripts, styles and the document head are dropped with their content; block elements become line breaks;
links keep their address in brackets when it differs from their text; entities are decoded. The result is
plain text and is always shown escaped.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_DROPPED = frozenset({"script", "style", "head", "title", "template", "noscript", "iframe", "object", "svg", "math"})
_BLOCKS = frozenset(
    {
        "p", "div", "section", "article", "header", "footer", "blockquote", "pre", "table", "tr", "ul", "ol",
        "h1", "h2", "h3", "h4", "h5", "h6", "hr", "address", "dl", "dt", "dd", "form", "fieldset",
    }
)  # fmt: skip
_VOID = frozenset({"br", "hr", "img", "meta", "link", "input", "wbr", "area", "base", "col", "source", "track"})


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.dropping = 0
        self.links: list[str] = []
        self.link_text_start: list[int] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROPPED:
            if tag not in _VOID:
                self.dropping += 1
            return
        if self.dropping:
            return
        if tag == "br":
            self.parts.append("\n")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in ("td", "th"):
            self.parts.append("\t")
        elif tag in _BLOCKS:
            self.parts.append("\n\n")
        elif tag == "img":
            alt = dict(attrs).get("alt") or ""
            if alt.strip():
                self.parts.append(f"[{alt.strip()}]")
        elif tag == "a":
            self.links.append(dict(attrs).get("href") or "")
            self.link_text_start.append(len(self.parts))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROPPED:
            return
        self.handle_starttag(tag, attrs)
        if tag == "a":
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROPPED:
            self.dropping = max(0, self.dropping - 1)
            return
        if self.dropping:
            return
        if tag in _BLOCKS:
            self.parts.append("\n\n")
        elif tag == "a" and self.links:
            href = self.links.pop().strip()
            start = self.link_text_start.pop()
            text = "".join(self.parts[start:]).strip()
            if href.lower().startswith(("http://", "https://", "mailto:")) and href.removeprefix("mailto:") != text:
                self.parts.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        if not self.dropping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """The readable text of an HTML document (see the module docstring)."""
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    text = "".join(extractor.parts).replace("\r\n", "\n").replace("\xa0", " ")
    lines = [re.sub(r"[ \t\f\v]+", " ", line).strip() for line in text.split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
