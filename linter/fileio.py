"""Writing files whole or not at all."""

from __future__ import annotations

import os


def write_atomic(path: str, content, encoding: str = "utf-8") -> None:
    """Write ``content`` (text, or bytes as they are) to a temporary file beside ``path``, flush it to
    disk, then rename it over ``path``, keeping the old file's permissions.

    A crash or kill at any moment leaves either the old file or the new one, never half of one.
    """
    import tempfile
    data = content if isinstance(content, bytes) else content.encode(encoding)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if os.path.exists(path):
            os.chmod(tmp, os.stat(path).st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
