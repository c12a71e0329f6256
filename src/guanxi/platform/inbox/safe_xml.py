"""Reading the small, flat XML documents WeChat sends, safely.

The expat parser is used directly with every document type declaration refused, so no entity can be
declared (no "billion laughs", no external entities, no DTD fetches). Only the root's direct children are
read, as {tag: text}, which is all a WeChat server message has.
"""

from __future__ import annotations

from xml.parsers import expat


class UnsafeXml(ValueError):
    """The document is not well-formed, declares a DTD or entities, or is not the expected shape."""


def _refuse(*args: object) -> None:
    raise UnsafeXml("document type declarations and entities are not accepted")


def parse_flat_xml(data: bytes, *, root: str = "xml") -> dict[str, str]:
    """{child tag: text} of the root element `root`; UnsafeXml for anything else."""
    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse
    parser.UnparsedEntityDeclHandler = _refuse
    parser.ExternalEntityRefHandler = _refuse  # type: ignore[assignment]
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    fields: dict[str, str] = {}
    stack: list[str] = []
    text: list[str] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        if not stack and tag != root:
            raise UnsafeXml(f"the root element is {tag!r}, not {root!r}")
        stack.append(tag)
        if len(stack) == 2:
            text.clear()

    def end(tag: str) -> None:
        if len(stack) == 2:
            fields[tag] = "".join(text)
        stack.pop()

    def characters(data: str) -> None:
        if len(stack) == 2:
            text.append(data)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    try:
        parser.Parse(data, True)
    except expat.ExpatError as error:
        raise UnsafeXml(str(error)) from None
    return fields
