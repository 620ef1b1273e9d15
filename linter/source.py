"""Source files and positions.

Every parsed value keeps character offsets into its :class:`SourceFile`; offsets turn into
1-based line and column numbers only when a finding needs them.  A column counts characters
(code points): a tab is one column, a byte-order mark is not part of the text at all.
"""

from __future__ import annotations

import bisect
import codecs
import os

#: Azure refuses templates over 4 MB; anything far beyond that is not a template we should read.
MAX_FILE_BYTES = 16 * 1024 * 1024


class LoadError(Exception):
    """A file that cannot be read or decoded; carries an offset when it has one."""

    def __init__(self, message: str, offset: int = 0):
        super().__init__(message)
        self.message = message
        self.offset = offset


class SourceFile:
    """The decoded text of one file, with lazy offset → (line, column) conversion."""

    __slots__ = ("path", "display", "text", "_lines", "encoding", "crlf")

    def __init__(self, path: str, text: str, display: str | None = None, encoding: str = "utf-8"):
        self.path = path
        self.display = display if display is not None else path
        self.text = text
        self.encoding = encoding
        self.crlf = "\r\n" in text
        self._lines: list[int] | None = None

    @classmethod
    def read(cls, path: str, display: str | None = None) -> "SourceFile":
        try:
            size = os.path.getsize(path)
        except OSError as exc:
            raise LoadError(f"cannot read file: {exc.strerror or exc}") from None
        if size > MAX_FILE_BYTES:
            raise LoadError(
                f"file is {size // (1024 * 1024)} MiB; vmsslint reads files up to "
                f"{MAX_FILE_BYTES // (1024 * 1024)} MiB (Azure itself accepts templates up to 4 MB)"
            )
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except OSError as exc:
            raise LoadError(f"cannot read file: {exc.strerror or exc}") from None
        text, encoding = decode(data)
        return cls(path, text, display, encoding)

    def _line_starts(self) -> list[int]:
        if self._lines is None:
            starts = [0]
            find = self.text.find
            i = find("\n")
            while i != -1:
                starts.append(i + 1)
                i = find("\n", i + 1)
            self._lines = starts
        return self._lines

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset."""
        starts = self._line_starts()
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(starts, offset) - 1
        return line + 1, offset - starts[line] + 1


def decode(data: bytes) -> tuple[str, str]:
    """Decode file bytes the way Azure accepts them: UTF-8 with or without BOM, or UTF-16 with BOM."""
    if data.startswith(codecs.BOM_UTF8):
        enc, body = "utf-8-sig", data[3:]
        name = "utf-8"
    elif data.startswith(codecs.BOM_UTF16_LE) or data.startswith(codecs.BOM_UTF16_BE):
        enc, body, name = "utf-16", data, "utf-16"
    else:
        enc, body, name = "utf-8", data, "utf-8"
    try:
        text = body.decode("utf-16" if enc == "utf-16" else "utf-8")
    except UnicodeDecodeError as exc:
        raise LoadError(
            f"file is not valid {name.upper()}: byte 0x{body[exc.start]:02x} at byte offset {exc.start}",
            offset=_char_offset(body, exc.start) if name == "utf-8" else 0,
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return text, (enc if enc != "utf-8-sig" else "utf-8-sig")


def _char_offset(data: bytes, byte_offset: int) -> int:
    return len(data[:byte_offset].decode("utf-8", errors="replace"))
