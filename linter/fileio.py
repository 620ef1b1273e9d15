"""Reading and writing files safely: whole or not at all, regular files only, never a device replaced."""

from __future__ import annotations

import os
import stat


class WriteError(OSError):
    """A file that cannot be written; the message names it and says why (exit 2, never a traceback).
    ``filename`` and ``strerror`` are set too, for callers that format an OSError themselves."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
        if message.startswith("cannot write ") and ": " in message:
            self.filename, self.strerror = message[len("cannot write "):].split(": ", 1)

    def __str__(self):
        return self.message


class ReadError(OSError):
    """A file that cannot be read as data: missing, not a regular file, too large, unreadable."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self):
        return self.message


_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def kind_of(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def read_bytes(path: str, limit: int) -> bytes:
    """The bytes of the regular file ``path`` (a symlink is followed), at most ``limit`` of them.

    A FIFO, a device (``/dev/zero``, ``/dev/stdin``), a socket or a directory is refused without
    reading from it or waiting for it: it is opened non-blocking and checked with ``fstat`` first.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise ReadError(f"cannot read: {exc.strerror or exc}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ReadError(f"not a regular file ({kind_of(st.st_mode)}); not read")
        if st.st_size > limit:
            raise ReadError(_too_large(st.st_size, limit))
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:  # the file grew while we read it
                raise ReadError(_too_large(total, limit))
        return b"".join(chunks)
    except ReadError:
        raise
    except OSError as exc:
        raise ReadError(f"cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def _too_large(size: int, limit: int) -> str:
    if limit >= 1024 * 1024:
        return f"file is {size / (1024 * 1024):.0f} MiB; vmsslint reads files up to {limit // (1024 * 1024)} MiB"
    return f"file is {size} bytes; vmsslint reads files of this kind up to {limit} bytes"


def read_text(path: str, limit: int, encoding: str = "utf-8") -> str:
    """:func:`read_bytes` decoded; a decoding error is a :class:`ReadError` naming the byte offset."""
    data = read_bytes(path, limit)
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ReadError(f"not valid {encoding.upper()}: byte 0x{data[exc.start]:02x} at byte offset {exc.start} "
                        f"(line {line})") from None


def _umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    old = os.umask(0o022)
    os.umask(old)
    return old


def _tmp_prefix(base: str) -> str:
    """``.NAME.PID.`` with NAME cut so that the temporary name fits in 255 bytes (a 250-byte NAME works)."""
    return f".{os.fsdecode(os.fsencode(base)[:120])}.{os.getpid()}."


def clean_stale(path: str) -> list:
    """Remove temporary files that a killed write of ``path`` left behind (their process is gone)."""
    directory = os.path.dirname(os.path.abspath(path))
    prefix = _tmp_prefix(os.path.basename(path)).rsplit(".", 2)[0] + "."  # ".NAME."
    removed = []
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    for name in names:
        if not (name.startswith(prefix) and name.endswith(".tmp")):
            continue
        pid = name[len(prefix):].split(".", 1)[0]
        if not pid.isdigit() or _alive(int(pid)):
            continue
        full = os.path.join(directory, name)
        try:
            if stat.S_ISREG(os.lstat(full).st_mode):
                os.unlink(full)
                removed.append(full)
        except OSError:
            pass
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # ours, and not being written now: a leftover of this process
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _why(exc: OSError) -> str:
    import errno
    if exc.errno == errno.ENOENT:
        return "the directory does not exist"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if exc.errno == errno.EROFS:
        return "read-only file system"
    if exc.errno == errno.ENOTDIR:
        return "a part of the path is a file, not a directory"
    if exc.errno == errno.ENAMETOOLONG:
        return "the file name is too long"
    return exc.strerror or str(exc)


def write_atomic(path: str, content, encoding: str = "utf-8") -> None:
    """Write ``content`` (text, or bytes as they are) to ``path``, whole or not at all.

    A regular file (or a new one) is written to a temporary file beside it, flushed to disk, then
    renamed over it, keeping the old file's permissions (a new file gets the user's umask).  A
    symbolic link is followed: its target is replaced and the link kept.  A FIFO or a character
    device (``-o /dev/stdout``) is written through, never replaced; a FIFO nobody reads is refused.
    A crash or kill at any moment leaves either the old file or the new one, never half of one, and
    the next write of the same file removes the temporary file a killed run left.
    Raises :class:`WriteError` with a message naming the file.
    """
    data = content if isinstance(content, bytes) else content.encode(encoding, errors="surrogateescape")
    shown = os.fsdecode(path)
    target = os.path.realpath(path) if os.path.islink(path) else path
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise WriteError(f"cannot write {shown}: {_why(exc)}") from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise WriteError(f"cannot write {shown}: it is a directory")
    if st is not None and not stat.S_ISREG(st.st_mode):
        _write_through(shown, target, st, data)
        return
    import tempfile
    directory = os.path.dirname(os.path.abspath(target))
    if not os.path.isdir(directory):
        why = "the directory does not exist" if not os.path.exists(directory) else \
            "a part of the path is a file, not a directory"
        raise WriteError(f"cannot write {shown}: {why} ({os.path.dirname(shown) or directory})")
    clean_stale(target)
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=_tmp_prefix(os.path.basename(target)), suffix=".tmp")
    except OSError as exc:
        raise WriteError(f"cannot write {shown}: {_why(exc)}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, (st.st_mode & 0o7777) if st is not None else (0o666 & ~_umask()))
        os.replace(tmp, target)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise WriteError(f"cannot write {shown}: {_why(exc)}") from None
        raise


def _write_through(shown: str, target: str, st, data: bytes) -> None:
    """Write into what ``target`` names when it is not a regular file (a FIFO, a character device)."""
    import errno
    if not (stat.S_ISFIFO(st.st_mode) or stat.S_ISCHR(st.st_mode)):
        raise WriteError(f"cannot write {shown}: it is {kind_of(st.st_mode)}")
    try:
        fd = os.open(target, os.O_WRONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        if exc.errno == errno.ENXIO:
            raise WriteError(f"cannot write {shown}: it is a FIFO and no process is reading it") from None
        raise WriteError(f"cannot write {shown}: {_why(exc)}") from None
    try:
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            view = view[n:]
    except OSError as exc:
        raise WriteError(f"cannot write {shown} ({kind_of(st.st_mode)}): {exc.strerror or exc}") from None
    finally:
        os.close(fd)
