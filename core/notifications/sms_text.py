"""How long a text message is, as a phone network counts it: its encoding, length and billed segments.

GSM 03.38 (GSM-7) holds the basic Latin set at one septet a character (the extension set, such as ``€`` and
``{``, at two); a single character outside it makes the whole message UCS-2, two bytes a character, where
emoji count twice. One segment carries 160 GSM-7 or 70 UCS-2 units; a longer message is split into
segments of 153 or 67, each billed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿"
    "abcdefghijklmnopqrstuvwxyzäöñüà")
_GSM_EXTENDED = frozenset("^{}\\[~]|€\f")


@dataclass(frozen=True)
class SmsLength:
    """``encoding`` is ``"GSM-7"`` or ``"UCS-2"``; ``length`` counts that encoding's units."""

    encoding: str
    length: int
    segments: int

    @property
    def per_segment(self) -> int:
        """How many units fit in each segment at this length."""
        single, multi = (160, 153) if self.encoding == "GSM-7" else (70, 67)
        return single if self.segments == 1 else multi


def sms_length(body: str) -> SmsLength:
    """The encoding, length and number of segments of ``body``."""
    if all(c in _GSM_BASIC or c in _GSM_EXTENDED for c in body):
        encoding, length, single, multi = "GSM-7", sum(2 if c in _GSM_EXTENDED else 1 for c in body), 160, 153
    else:
        encoding, length, single, multi = "UCS-2", len(body.encode("utf-16-le")) // 2, 70, 67
    return SmsLength(encoding, length, 1 if length <= single else math.ceil(length / multi))
