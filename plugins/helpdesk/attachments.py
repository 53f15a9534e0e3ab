"""Files attached to tickets: checked before anything is stored, served back only as downloads.

The type is read from the file's first bytes, never from its name or the browser's word: a file whose
contents are not one of the accepted kinds is refused, and so is one whose name claims another kind than
its contents (``invoice.pdf`` that is really a picture), so what staff download is what its name says.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from io import BytesIO

from flask import send_file
from werkzeug.datastructures import FileStorage

MAX_FILES = 3
MAX_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class Kind:
    content_type: str
    words: str  # how the message names it
    extensions: tuple[str, ...]


PNG = Kind("image/png", "a PNG picture", ("png",))
JPEG = Kind("image/jpeg", "a JPEG picture", ("jpg", "jpeg"))
GIF = Kind("image/gif", "a GIF picture", ("gif",))
WEBP = Kind("image/webp", "a WebP picture", ("webp",))
PDF = Kind("application/pdf", "a PDF document", ("pdf",))
TEXT = Kind("text/plain", "plain text", ("txt", "log", "csv"))
ACCEPTED = "pictures (PNG, JPEG, GIF, WebP), PDF documents and plain text files (.txt, .log, .csv)"


class AttachmentError(ValueError):
    """An upload we do not keep; the message says why, in the sender's words."""


@dataclass(frozen=True)
class CheckedFile:
    filename: str
    content_type: str
    data: bytes


def size_words(size: int) -> str:
    """A file size as people read it: "5 MB", "100 KB"."""
    return f"{size // (1024 * 1024)} MB" if size >= 1024 * 1024 else f"{max(size // 1024, 1)} KB"


def kind_of(data: bytes) -> Kind | None:
    """What ``data`` is, from its first bytes (text: UTF-8 without control characters); None if none of
    ours."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    if data.startswith(b"%PDF-"):
        return PDF
    try:
        decoded = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if decoded and not re.search(r"[\x00-\x08\x0b\x0e-\x1f\x7f]", decoded):
        return TEXT
    return None


def safe_filename(name: str) -> str:
    """The file's own name, reduced to characters that are safe in a header and on any disk."""
    base = unicodedata.normalize("NFKC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = re.sub(r"[^\w.\- ]+", "_", base).strip(" .")
    return base[-120:] or "attachment"


def check(files: list[FileStorage]) -> list[CheckedFile]:
    """The uploads to keep, or :class:`AttachmentError` for the first that is refused (nothing is kept)."""
    chosen = [f for f in files if f and f.filename]
    if len(chosen) > MAX_FILES:
        raise AttachmentError(f"Attach at most {MAX_FILES} files.")
    checked = []
    for upload in chosen:
        name = safe_filename(upload.filename)
        data = upload.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise AttachmentError(f"“{name}” is larger than {size_words(MAX_BYTES)}. Attach a smaller file, "
                                  "or a picture of the part that matters.")
        if not data:
            raise AttachmentError(f"“{name}” is empty.")
        kind = kind_of(data)
        if kind is None:
            raise AttachmentError(f"“{name}” is not a kind of file we accept. We accept {ACCEPTED}.")
        extension = name.rpartition(".")[2].lower() if "." in name else ""
        if extension not in kind.extensions:
            raise AttachmentError(f"“{name}” does not contain what its name says: it is {kind.words}. "
                                  f"Rename it to end in .{kind.extensions[0]}, or attach the right file.")
        checked.append(CheckedFile(filename=name, content_type=kind.content_type, data=data))
    return checked


def download(attachment):
    """The stored file as a download that no browser renders or sniffs, and no cache keeps."""
    response = send_file(BytesIO(attachment.data), mimetype=attachment.content_type, as_attachment=True,
                         download_name=attachment.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
