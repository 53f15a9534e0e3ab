"""Colour contrast as WCAG 2 measures it, so a business's brand colours keep the text drawn on them readable.

The theme draws white text on the brand colour (the header, buttons) and the accent colour as text on white
(links). WCAG AA asks for a contrast of at least 4.5:1 for normal text.
"""

from __future__ import annotations

WHITE = "#ffffff"
AA_NORMAL_TEXT = 4.5


def _channel(value: int) -> float:
    srgb = value / 255
    return srgb / 12.92 if srgb <= 0.03928 else ((srgb + 0.055) / 1.055) ** 2.4


def _rgb(colour: str) -> tuple[int, int, int]:
    colour = colour.lstrip("#")
    return int(colour[0:2], 16), int(colour[2:4], 16), int(colour[4:6], 16)


def luminance(colour: str) -> float:
    """The relative luminance of a "#rrggbb" colour, 0 (black) to 1 (white)."""
    red, green, blue = (_channel(value) for value in _rgb(colour))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(first: str, second: str) -> float:
    """The contrast ratio of two colours, 1 to 21."""
    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def darkened_until_readable(colour: str, against: str = WHITE, ratio: float = AA_NORMAL_TEXT) -> str:
    """The same hue made darker, step by step, until it reaches ``ratio`` against ``against``."""
    red, green, blue = _rgb(colour)
    for step in range(101):
        factor = 1 - step / 100
        candidate = "#{:02x}{:02x}{:02x}".format(*(round(value * factor) for value in (red, green, blue)))
        if contrast(candidate, against) >= ratio:
            return candidate
    return "#000000"


def readability_problem(colour: str, what: str, against: str = WHITE) -> str | None:
    """Why ``colour`` fails WCAG AA against ``against`` (with a darker one that passes), or None."""
    ratio = contrast(colour, against)
    if ratio >= AA_NORMAL_TEXT:
        return None
    darker = darkened_until_readable(colour, against)
    return (f"{what} on {colour.lower()} is hard to read: the contrast is {ratio:.1f}:1 and at least "
            f"{AA_NORMAL_TEXT}:1 is needed (WCAG AA). Try {darker}, the same colour darker.")
