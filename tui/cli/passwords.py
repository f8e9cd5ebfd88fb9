"""The office's password file for `shopfloor serve`: one `name:scrypt:...` line per person.

Only a salted scrypt hash of each password is kept (hashlib.scrypt, n=2^14, r=8, p=1:
about 16 MB and a few tens of milliseconds per try, which makes guessing slow); the file
is written whole or not at all, mode 0600. `shopfloor passwd` adds or replaces a line.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

SCHEME = "scrypt"
N, R, P = 2**14, 8, 1
SALT_BYTES = 16
KEY_BYTES = 32
# A name is what a person types at the browser's prompt: no colon (Basic auth splits on it).
NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-@")


class PasswordFileError(ValueError):
    """A password file or entry a person has to fix; the message says where."""


@dataclass(frozen=True)
class Entry:
    name: str
    n: int
    r: int
    p: int
    salt: bytes
    key: bytes

    def line(self) -> str:
        salt = base64.b64encode(self.salt).decode()
        key = base64.b64encode(self.key).decode()
        return f"{self.name}:{SCHEME}:{self.n}:{self.r}:{self.p}:{salt}:{key}"

    def matches(self, password: str) -> bool:
        tried = _derive(password, self.salt, self.n, self.r, self.p, len(self.key))
        return hmac.compare_digest(tried, self.key)


def _derive(password: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=256 * n * r, dklen=length
    )


def check_name(name: str) -> None:
    if not name or not set(name) <= NAME_CHARS:
        raise PasswordFileError(
            f"{name!r} cannot be a name: use letters, digits and . _ - @ (no spaces or colons)"
        )


def new_entry(name: str, password: str) -> Entry:
    check_name(name)
    if len(password) < 8:
        raise PasswordFileError("a password needs at least 8 characters")
    salt = secrets.token_bytes(SALT_BYTES)
    return Entry(name, N, R, P, salt, _derive(password, salt, N, R, P, KEY_BYTES))


def read_entries(path: Path) -> dict[str, Entry]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PasswordFileError(
            f"{path}: no such password file; add a person with `shopfloor passwd --file {path} "
            "NAME`"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PasswordFileError(f"{path}: cannot read: {exc}") from None
    entries: dict[str, Entry] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(":")
        try:
            name, scheme, n, r, p, salt, key = parts
            if scheme != SCHEME:
                raise ValueError(scheme)
            entries[name] = Entry(
                name, int(n), int(r), int(p), base64.b64decode(salt, validate=True),
                base64.b64decode(key, validate=True),
            )  # fmt: skip
        except ValueError:
            raise PasswordFileError(
                f"{path}:{number}: not a password entry; write entries with `shopfloor passwd`"
            ) from None
    return entries


def write_entry(path: Path, entry: Entry) -> bool:
    """Add `entry` or replace the one of that name; True if it replaced one."""
    entries = read_entries(path) if path.exists() else {}
    replaced = entry.name in entries
    entries[entry.name] = entry
    partial = path.with_name(path.name + ".partial")
    fd = os.open(partial, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write("".join(e.line() + "\n" for e in entries.values()))
        out.flush()
        os.fsync(out.fileno())
    partial.replace(path)
    return replaced


class Passwords:
    """The entries of one file, and the credentials already proven this run (a browser
    sends them with every request; scrypt runs once per person, not once per request)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries = read_entries(path)
        if not self.entries:
            raise PasswordFileError(
                f"{path}: no entries; add a person with `shopfloor passwd --file {path} NAME`"
            )
        self._proven: set[bytes] = set()

    def allows(self, name: str, password: str) -> bool:
        token = hashlib.sha256(f"{name}\0{password}".encode()).digest()
        if token in self._proven:
            return True
        entry = self.entries.get(name)
        if entry is None:
            # As slow as a wrong password: the answer's time does not tell who exists.
            _derive(password, b"\0" * SALT_BYTES, N, R, P, KEY_BYTES)
            return False
        if not entry.matches(password):
            return False
        self._proven.add(token)
        return True
