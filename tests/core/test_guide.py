"""The plugin authors' guide shows code that runs: every code block in it quotes a file of the example
plugin (named on the block's first line), and the quote must still match that file, whose tests run in CI.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "writing-a-plugin.md"
QUOTED_LANGUAGES = ("python", "toml", "jinja")
# The first line of a quoting block: a comment naming the file, in the block's language.
SOURCE = re.compile(r"^(?:# (?P<py>\S+)|\{# (?P<jinja>\S+) #\})$")
OMITTED = "..."  # a line of its own in a block: lines of the file left out here


def code_blocks(markdown: str) -> list[tuple[str, int, list[str]]]:
    """(language, line number, lines) of every fenced block."""
    blocks, language, start, lines = [], None, 0, []
    for number, line in enumerate(markdown.splitlines(), 1):
        if line.startswith("```") and language is None:
            language, start, lines = line[3:].strip(), number, []
        elif line.startswith("```"):
            blocks.append((language, start, lines))
            language = None
        elif language is not None:
            lines.append(line)
    return blocks


BLOCKS = [block for block in code_blocks(GUIDE.read_text()) if block[0] in QUOTED_LANGUAGES]


def test_the_guide_has_quoted_code():
    assert {language for language, _, _ in BLOCKS} == set(QUOTED_LANGUAGES)


def is_excerpt(quoted: list[str], source: list[str]) -> bool:
    """True when the quoted lines are runs of consecutive lines of ``source``, in order."""
    position = 0
    for run in "\n".join(quoted).split(f"\n{OMITTED}\n"):
        run_lines = run.split("\n")
        for start in range(position, len(source) - len(run_lines) + 1):
            if source[start:start + len(run_lines)] == run_lines:
                position = start + len(run_lines)
                break
        else:
            return False
    return True


@pytest.mark.parametrize(("language", "line", "lines"), BLOCKS, ids=[f"line {b[1]}" for b in BLOCKS])
def test_every_code_block_quotes_a_file_that_still_says_so(language, line, lines):
    marker = SOURCE.match(lines[0]) if lines else None
    assert marker, f"the {language} block at line {line} must name its source on its first line"
    path = ROOT / (marker["py"] or marker["jinja"])
    assert path.is_file(), f"line {line}: {path} does not exist"
    assert path.is_relative_to(ROOT / "examples"), f"line {line}: quote the example plugin, not core"
    assert is_excerpt(lines[1:], path.read_text().splitlines()), (
        f"the block at line {line} no longer matches {path.relative_to(ROOT)}: copy the file's lines again")


def test_a_changed_quote_is_caught():
    source = ["def a():", "    return 1", "", "def b():", "    return 2"]
    assert is_excerpt(["def a():", "    return 1", OMITTED, "    return 2"], source)
    assert not is_excerpt(["def a():", "    return 2"], source)
    assert not is_excerpt(["    return 2", OMITTED, "def a():"], source)  # out of order


def test_stale_names_are_gone():
    guide = GUIDE.read_text()
    for stale in ("PLUGIN_NAME", "staff_login_required", "console_menu_items", "accepts_invitations",
                  "_plugin_settings_extra", "core.testing.payments", "plugin_api.plugin_settings"):
        assert stale not in guide, f"the guide still mentions {stale}"
