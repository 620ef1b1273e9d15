"""Source files and positions.

Every parsed value keeps character offsets into its :class:`SourceFile`; offsets turn into
1-based line and column numbers only when a finding needs them.  A column counts characters
(code points): a tab is one column, a byte-order mark is not part of the text at all.
"""

from __future__ import annotations

import bisect
import codecs

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

    __slots__ = ("path", "display", "text", "_lines", "encoding", "crlf", "bom")

    def __init__(self, path: str, text: str, display: str | None = None, encoding: str = "utf-8", bom: bytes = b""):
        self.path = path
        self.display = display if display is not None else path
        self.text = text
        self.encoding = encoding  # the codec of the text after the byte-order mark(s): utf-8, utf-16-le, utf-16-be
        self.bom = bom  # the byte-order mark(s) exactly as the file had them (a fix writes them back)
        self.crlf = "\r\n" in text
        self._lines: list[int] | None = None

    @classmethod
    def read(cls, path: str, display: str | None = None) -> "SourceFile":
        """Read a regular file (a FIFO, a device or a directory is refused unread) of at most
        :data:`MAX_FILE_BYTES`."""
        from linter.fileio import ReadError, read_bytes
        try:
            data = read_bytes(path, MAX_FILE_BYTES)
        except ReadError as exc:
            msg = exc.message
            if msg.startswith("file is "):
                msg += " (Azure itself accepts templates up to 4 MB)"
            raise LoadError(msg if not msg.startswith("cannot read") else f"cannot read file{msg[11:]}") from None
        text, encoding, bom = decode_exact(data)
        return cls(path, text, display, encoding, bom)

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
    text, codec, bom = decode_exact(data)
    return text, ("utf-16" if codec.startswith("utf-16") else "utf-8-sig" if bom else "utf-8")


def decode_exact(data: bytes) -> tuple[str, str, bytes]:
    """(text, codec, byte-order marks): ``bom + text.encode(codec)`` gives back exactly ``data``."""
    if data.startswith(codecs.BOM_UTF8):
        mark, name, codec = codecs.BOM_UTF8, "utf-8", "utf-8"
    elif data.startswith(codecs.BOM_UTF16_LE):
        mark, name, codec = codecs.BOM_UTF16_LE, "utf-16", "utf-16-le"
    elif data.startswith(codecs.BOM_UTF16_BE):
        mark, name, codec = codecs.BOM_UTF16_BE, "utf-16", "utf-16-be"
    else:
        mark, name, codec = b"", "utf-8", "utf-8"
    skip = 0
    if mark:
        while data.startswith(mark, skip):  # a doubled BOM is kept as it was
            skip += len(mark)
    body = data[skip:]
    try:
        text = body.decode(codec)
    except UnicodeDecodeError as exc:
        raise LoadError(
            f"file is not valid {name.upper()}: byte 0x{body[exc.start]:02x} at byte offset {exc.start + skip}",
            offset=_char_offset(body, exc.start) if name == "utf-8" else 0,
        ) from None
    return text, codec, data[:skip]


def _char_offset(data: bytes, byte_offset: int) -> int:
    return len(data[:byte_offset].decode("utf-8", errors="replace"))
