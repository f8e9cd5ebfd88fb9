"""What a scan feed keeps on disk while the database refuses writes, beside the database
in `<db>-spool/`: each feed's spool of lines not yet known to be committed (append-only,
fsync'd per append, replayed after a kill) and its status file of the held count
(fixed size, overwritten in place, so it works on a full disk), which any process reads
(`held_scans`) to say "waiting for the database: N scans held"; and for an SSI scanner,
its acknowledgement mark (`AckMark`): the journal row it last acknowledged.
"""

from __future__ import annotations

import base64
import fcntl
import json
import logging
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from db.connection import now_ms

log = logging.getLogger("shopfloor.feed")

# The status file is rewritten in place at this fixed size: no new disk blocks needed.
_STATUS_SIZE = 1024


@dataclass(frozen=True, slots=True)
class FedLine:
    """One line given to the feed, with its place in the feed's order."""

    seq: int
    station: str
    raw: bytes
    at_ms: int  # when it was read: the time the journal keeps, held or not
    length: int
    unterminated: bool = False


@dataclass(frozen=True)
class HeldScans:
    """What a feed holds while the database refuses writes, as its status file says."""

    feed: str
    held: int
    since_ms: int | None
    reason: str | None
    updated_ms: int
    stations: tuple[str, ...] = ()


def spool_dir(db_path: str | Path) -> Path:
    """The folder beside the database where feeds keep their spools."""
    path = Path(db_path)
    return path.with_name(path.name + "-spool")


def held_scans(db_path: str | Path) -> list[HeldScans]:
    """Every feed's held count, from the status files (cheap: a few small reads)."""
    folder = spool_dir(db_path)
    try:
        names = sorted(p for p in folder.iterdir() if p.suffix == ".held")
    except OSError:
        return []
    reports: list[HeldScans] = []
    for path in names:
        try:
            status = json.loads(path.read_bytes().rstrip(b" \n\0") or b"{}")
        except (OSError, ValueError):
            continue
        if not isinstance(status, dict) or not status.get("held"):
            continue
        reports.append(
            HeldScans(
                feed=path.stem,
                held=int(status["held"]),
                since_ms=status.get("since_ms"),
                reason=status.get("reason"),
                updated_ms=int(status.get("updated_ms", 0)),
                stations=tuple(str(code) for code in status.get("stations", [])),
            )
        )
    return reports


def held_words(count: int) -> str:
    """The one phrase every screen and log uses for held scans."""
    return f"waiting for the database: {count} scan{'' if count == 1 else 's'} held"


def file_name(feed: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", feed)[:80] or "feed"


class Spool:
    """An append-only file of lines not yet known to be committed, fsync'd per append."""

    def __init__(self, folder: Path, name: str) -> None:
        folder.mkdir(mode=0o700, exist_ok=True)
        self.path = folder / f"{name}.spool"
        fd = os.open(self.path, os.O_CREAT | os.O_RDWR | os.O_APPEND, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise
        self._fd = fd
        self.spooled_to = 0  # the highest seq known to be in the file

    def read(self) -> list[FedLine]:
        """Every whole record in the file; a torn last record (a kill mid-write) is skipped."""
        with open(self._fd, "rb", closefd=False) as stream:
            stream.seek(0)
            content = stream.read()
        by_seq: dict[int, FedLine] = {}
        for record in content.split(b"\n"):
            try:
                fields = json.loads(record)
                line = FedLine(
                    seq=int(fields["seq"]),
                    station=str(fields["station"]),
                    raw=base64.b64decode(fields["raw"]),
                    at_ms=int(fields["at"]),
                    length=int(fields["len"]),
                    unterminated=bool(fields.get("cut", False)),
                )
            except (ValueError, KeyError, TypeError):
                continue
            by_seq.setdefault(line.seq, line)
            self.spooled_to = max(self.spooled_to, line.seq)
        return [by_seq[seq] for seq in sorted(by_seq)]

    def append(self, lines: Iterable[FedLine]) -> bool:
        """Write lines durably; False if the disk would not take them (they stay in memory).

        A line written twice (after a failed write) is read once: records carry their seq.
        """
        fresh = list(lines)
        if not fresh:
            return True
        payload = b"".join(
            json.dumps(
                {"seq": line.seq, "station": line.station, "at": line.at_ms, "len": line.length,
                 "cut": line.unterminated, "raw": base64.b64encode(line.raw).decode("ascii")},
                separators=(",", ":"),
            ).encode("ascii") + b"\n"
            for line in fresh
        )  # fmt: skip
        size = os.fstat(self._fd).st_size
        try:
            # A record cut by an earlier failed write must not swallow the next one.
            os.write(self._fd, b"\n" + payload if size else payload)
            os.fsync(self._fd)
        except OSError as exc:
            log.warning("spool %s not written (%s); the lines stay in memory", self.path, exc)
            return False
        self.spooled_to = max(self.spooled_to, max(line.seq for line in fresh))
        return True

    def clear(self) -> None:
        """Everything in the file is committed: start it again empty."""
        try:
            os.ftruncate(self._fd, 0)
            os.fsync(self._fd)
        except OSError as exc:
            log.warning("spool %s not emptied (%s); replay skips its lines", self.path, exc)

    def close(self) -> None:
        os.close(self._fd)


class StatusFile:
    """A fixed-size file saying how many lines the feed holds, overwritten in place."""

    def __init__(self, folder: Path, name: str) -> None:
        self.path = folder / f"{name}.held"
        self._fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            if os.fstat(self._fd).st_size < _STATUS_SIZE:
                os.pwrite(self._fd, b" " * _STATUS_SIZE, 0)
        except OSError:
            pass  # a full disk at start: the in-place writes below may still fit

    def write(
        self, held: int, since_ms: int | None, reason: str | None, stations: Iterable[str] = ()
    ) -> None:
        words = json.dumps(
            {"held": held, "since_ms": since_ms, "reason": (reason or "")[:300],
             "updated_ms": now_ms(), "stations": sorted(stations)[:8]}
        ).encode("utf-8")[: _STATUS_SIZE - 1]  # fmt: skip
        try:
            os.pwrite(self._fd, words.ljust(_STATUS_SIZE - 1) + b"\n", 0)
        except OSError as exc:
            log.debug("status %s not written: %s", self.path, exc)

    def close(self) -> None:
        os.close(self._fd)


class AckMark:
    """The journal id of the scan an SSI link last acknowledged, overwritten in place.

    Written right after the ACK is on the wire and before the next packet is read, so
    after a kill -9 the next run knows whether the last journaled scan was answered
    (the page cache keeps the write; no fsync is needed for a killed process). It tells
    a resent copy of that scan from a new read of the same label (db.listen).
    """

    def __init__(self, folder: Path, name: str) -> None:
        folder.mkdir(mode=0o700, exist_ok=True)
        self.path = folder / f"{name}.acked"
        self._fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600)

    def read(self) -> int | None:
        try:
            text = os.pread(self._fd, 32, 0).strip(b" \n\0")
            return int(text) if text else None
        except (OSError, ValueError):
            return None

    def write(self, scan_id: int) -> None:
        try:
            os.pwrite(self._fd, str(scan_id).encode("ascii").ljust(31) + b"\n", 0)
        except OSError as exc:
            log.warning("acknowledgement mark %s not written: %s", self.path, exc)

    def close(self) -> None:
        os.close(self._fd)
