"""Replacing a file whole, so that a reader sees the old text or the new, never half.

The token cache and the engine's auth file are both written this way.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # the cache imports this module on the helper's cached path
if TYPE_CHECKING:
    from pathlib import Path


def replace(path: Path, text: str, mode: int) -> None:
    """Write ``text`` to a temp file beside ``path`` with ``mode``, flush it to
    disk, then rename it over ``path``; on any failure the temp file goes."""
    import tempfile  # here: a cached answer never writes, and never pays for it

    # Named so that no listing of the real files (a glob for *.token) sees it.
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.chmod(temp, mode)
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        try:  # noqa: SIM105 - contextlib would load collections on the helper's cached path
            os.unlink(temp)
        except OSError:
            pass
        raise
