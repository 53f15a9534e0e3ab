"""A message's one body, written in Markdown, made into both parts of an email: its HTML and its plain text.

A business writes each message once; the HTML part (which most mail apps show) and the text part say the same
words. The Markdown is CommonMark with line breaks kept as written and bare addresses made into links; raw
HTML and images are not allowed (they are shown as the text they are), so a body can neither hide a link
nor load a tracking image. The values a template puts into the body are escaped (:func:`escape_value`), so a
customer named ``*Bob*`` stays ``*Bob*`` in both parts.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markupsafe import Markup

_markdown = MarkdownIt("commonmark", {"breaks": True, "html": False, "linkify": True}).enable("linkify")
_markdown.disable("image")

_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+\-.!|~])")
_ADDRESS = re.compile(r"(https?://|mailto:)\S+")


def escape_value(value):
    """A template value as literal Markdown text: its punctuation escaped, except in a web or mail address
    (which must stay one, to be made a link). Anything that is not a string is left as it is."""
    if not isinstance(value, str) or _ADDRESS.fullmatch(value):
        return value
    return _SPECIAL.sub(r"\\\1", value)


def to_html(source: str) -> Markup:
    """The HTML of a Markdown body (the inside of the message: the theme's layout goes around it)."""
    return Markup(_markdown.render(source))  # noqa: S704 - raw HTML is disabled: the renderer escapes all text


def to_text(source: str) -> str:
    """The plain text of a Markdown body: emphasis marks dropped, a link written as its words and address
    ("View your invoice: https://…"), list items kept as "- " lines, paragraphs apart by a blank line; it
    ends with a line break when the body does."""
    pieces: list[str] = []
    lists: list[list] = []  # one entry a list being written: [next number, or None for bullets]
    for token in _markdown.parse(source):
        if token.type in ("bullet_list_open", "ordered_list_open"):
            lists.append([int(token.attrGet("start") or 1) if token.type == "ordered_list_open" else None])
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
            pieces.append("\n" if lists else "\n\n")
        elif token.type == "list_item_open":
            number = lists[-1][0]
            pieces.append("  " * (len(lists) - 1) + ("- " if number is None else f"{number}. "))
            if number is not None:
                lists[-1][0] = number + 1
        elif token.type == "inline":
            pieces.append(_inline_text(token.children or []))
        elif token.type in ("paragraph_close", "heading_close"):
            pieces.append("\n" if token.hidden else "\n\n")
        elif token.type in ("fence", "code_block"):
            pieces.append(token.content + "\n")
        elif token.type == "hr":
            pieces.append("----\n\n")
    text = re.sub(r"\n{3,}", "\n\n", "".join(pieces)).strip()
    return text + "\n" if source.endswith("\n") else text


def _inline_text(children) -> str:
    out: list[str] = []
    links: list[tuple[str, int, bool]] = []  # (address, where its words start, made from a bare address)
    for child in children:
        if child.type in ("text", "code_inline"):
            out.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            out.append("\n")
        elif child.type == "link_open":
            links.append((child.attrGet("href") or "", len(out), child.markup == "linkify"))
        elif child.type == "link_close" and links:
            address, start, bare = links.pop()
            words = "".join(out[start:])
            if not bare and words.strip() and words != address and address.removeprefix("mailto:") != words:
                out.append(f": {address}")
    return "".join(out)
