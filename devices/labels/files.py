"""Label files on disk: a safe file name per code, and a write that is whole or nothing.

Shared by the `shopfloor labels` command and the app's own prints (tui.printing).
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Sequence
from pathlib import Path

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(code: str) -> str:
    """A file name for `code` on any file system: `CMD:MODE:ISSUE` → `CMD_MODE_ISSUE`."""
    name = _UNSAFE.sub("_", code).strip("._")
    return name or "_"


def file_names(codes: Sequence[str], ext: str) -> list[str]:
    """A distinct safe file name per code (case-insensitively distinct, for every disk)."""
    taken: set[str] = set()
    names: list[str] = []
    for code in codes:
        base = safe_name(code)
        name, n = f"{base}.{ext}", 1
        while name.lower() in taken:
            n += 1
            name = f"{base}~{n}.{ext}"
        taken.add(name.lower())
        names.append(name)
    return names


def write_file(path: Path, data: bytes, *, private: bool = False) -> None:
    """Write `data` to `path` whole or not at all (a temp file beside it, then a rename).

    The file gets the usual permissions (0666 less the umask), like any file written;
    a `private` one (badge labels: a badge is a credential) is 0600 from its first byte.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
