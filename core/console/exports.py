"""CSV downloads of console lists (invoices, customers), safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable

from flask import Response

# A cell a spreadsheet would run as a formula: written as text instead (a leading apostrophe), so a customer
# named "=HYPERLINK(...)" cannot plant one in the business's spreadsheet.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def _cell(value) -> str:
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_STARTS) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_download(filename: str, header: list[str], rows: Iterable[Iterable]) -> Response:
    """A CSV attachment of ``rows`` under ``header``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(value) for value in row])
    response = Response(buffer.getvalue(), mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
