"""Scanners bound to stations: each one's reader, feed and Devices row (`ScannerLink`),
and the headless reader that runs a set of them (`shopfloor listen`).

A `ScannerLink` is the one bridge from a scanner to the scan pipeline, used by
`shopfloor listen` and by an app that reads its own scanner: its reader hands over
the lines of one read (at most one hand-over's worth, db.feed) to its `ScanFeed`,
which commits them, or holds them in order while the database refuses writes. So at a
kill -9 the only lines that can be missing are those of the hand-over being committed;
lines still in the device's buffer are read after the restart, and lines held in the
spool are posted first. Scanner state changes go to the `scanners` table for the
Devices screen, and to the log.

An SSI scanner (`protocol = "ssi"`, devices.ssi) hands the same scans to the same feed,
one at a time, and the link tells its reader what to answer once the scan's journal
row is committed: ACK, or ACK and the error beep for a rejected scan. A packet the
scanner resends because no ACK reached it is recognised (`_resent_copy`) and answered
without being posted again.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_args

from db.connection import connect
from db.feed import ScanFeed
from db.pipeline import JOURNAL_RAW_LIMIT, ScanResult
from db.scanners import (
    HEARTBEAT_S,
    count_answers,
    mark_alive,
    record_revision,
    record_scanner,
)
from db.spool import AckMark, FedLine, held_words, spool_dir
from devices.framing import Terminator
from devices.reader import LineRead, LinkChanged, ScannerConfig, ScannerReader
from devices.ssi import Reply, SsiReader, SsiScan

log = logging.getLogger("shopfloor.listen")


class ConfigError(ValueError):
    """A scanner configuration a person has to fix; the message says where."""


# The settings a [[scanner]] table may hold: the fields of ScannerConfig, no copy.
_FIELDS = frozenset(f.name for f in fields(ScannerConfig))


def load_config(path: str | Path) -> list[ScannerConfig]:
    """Scanners from a TOML file: one `[[scanner]]` table per scanner."""
    try:
        document = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    scanners = document.get("scanner", [])
    if not isinstance(scanners, list) or not scanners:
        raise ConfigError(f"{path}: no [[scanner]] tables; add one per scanner")
    return [_scanner(path, n, entry) for n, entry in enumerate(scanners, start=1)]


def _scanner(path: str | Path, n: int, entry: dict[str, Any]) -> ScannerConfig:
    unknown = set(entry) - _FIELDS
    if unknown:
        raise ConfigError(f"{path}: scanner {n}: unknown setting {sorted(unknown)[0]!r}")
    for key in ("url", "station"):
        if not entry.get(key):
            raise ConfigError(f"{path}: scanner {n}: {key} is missing")
    if entry.get("terminator", "auto") not in get_args(Terminator):
        raise ConfigError(f"{path}: scanner {n}: terminator must be auto, CR, LF or CRLF")
    if entry.get("protocol", "lines") not in ("lines", "ssi"):
        raise ConfigError(
            f'{path}: scanner {n}: protocol must be "lines" (a plain serial scanner) or '
            '"ssi" (a Zebra scanner set to SSI)'
        )
    settings = dict(entry)
    settings.setdefault("name", f"{entry['station']}-{n}")
    try:
        return ScannerConfig(**settings)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: scanner {n}: {exc}") from None


def parse_scanner_option(option: str, n: int) -> ScannerConfig:
    """`STATION=URL` from the command line."""
    station, sep, url = option.partition("=")
    if not sep or not station or not url:
        raise ConfigError(
            f"--scanner {option!r}: write it as STATION=URL, e.g. STORES=/dev/ttyACM0"
        )
    return ScannerConfig(name=f"{station}-{n}", url=url, station=station)


# How often a holding feed's count is repeated in the log while it waits.
HELD_LOG_EVERY_S = 5.0
# An SSI link adds its acknowledgements, resends and error beeps to its Devices row at
# most this often (each write is a commit of its own; a kill loses at most this much).
COUNTS_EVERY_S = 1.0
# While an SSI scan is held for the database, the reader checks this often whether it
# has been committed, so its ACK goes out.
HELD_CHECK_S = 0.02


class ScannerLink:
    """One scanner read into the pipeline: its reader thread, its feed, its Devices row.

    The callbacks run on the reader's or the feed's thread: `on_result` for every
    committed line, `on_state` for a connect or loss, `on_held` when the number of lines
    waiting for the database changes, `on_event` for a line of log.
    """

    def __init__(
        self,
        db_path: str,
        config: ScannerConfig,
        *,
        on_result: Callable[[FedLine, ScanResult], None] | None = None,
        on_state: Callable[[LinkChanged], None] | None = None,
        on_held: Callable[[int, str | None], None] | None = None,
        on_event: Callable[[str], None] = log.info,
    ) -> None:
        self.db_path = db_path
        self.config = config
        self._on_state = on_state
        self._on_held = on_held
        self._on_event = on_event
        self._state_conn: sqlite3.Connection | None = None
        self._last_held_log = 0.0
        self._last_result: ScanResult | None = None
        self._on_result = on_result
        self._stopping = threading.Event()
        self.feed = ScanFeed(
            db_path, name=config.name, source="serial", scanner=config.name,
            dedupe_ms=config.dedupe_ms, on_result=self._committed, on_held=self._held,
        )  # fmt: skip
        self.reader: ScannerReader
        if config.protocol == "ssi":
            self._answers = _Answers(AckMark(spool_dir(db_path), self.feed.name_on_disk))
            self.reader = SsiReader(
                config, on_scan=self._ssi_scan, on_state=self._state,
                on_answered=self._answered, on_revision=self._revision,
                on_count=self._answers.count, can_take=lambda: self.feed.can_take,
            )  # fmt: skip
        else:
            self.reader = ScannerReader(
                config, on_lines=self._lines, on_state=self._state,
                can_take=lambda: self.feed.can_take,
            )  # fmt: skip

    def start(self) -> None:
        # Lines spooled by an earlier run go first, before anything new is read.
        self.feed.start()
        self.reader.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop reading; a hand-over being committed finishes first; held lines stay spooled."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        self.reader.stop(timeout=timeout)
        self.feed.close()
        if self.config.protocol == "ssi":
            self._write_counts(force=True)
            self._answers.mark.close()

    def _committed(self, line: FedLine, result: ScanResult) -> None:
        self._last_result = result
        if self._on_result is not None:
            self._on_result(line, result)

    # ------------------------------------------------------------ SSI

    def _ssi_scan(self, scan: SsiScan) -> Reply:
        """Commit one SSI scan and say what to answer; returns only once it is durable."""
        if scan.retransmitted:
            copy_of = self._resent_copy(scan.line)
            if copy_of is not None:
                self._answers.pending = copy_of[0]
                return "reject" if copy_of[1] == "rejected" else "ack"
        results = self.feed.give(self.config.station, [scan.as_line(self.config.name)])
        if results is None:
            # Held for the database: the ACK waits for the commit (the scanner meanwhile
            # resends, and after its retries sounds its transmit error).
            while self.feed.held:
                if self._stopping.wait(HELD_CHECK_S):
                    return "none"
            result = self._last_result
            if result is None:
                return "none"
        else:
            result = results[0]
        self._answers.pending = result.scan_id
        return "reject" if result.status == "rejected" else "ack"

    def _resent_copy(self, line: bytes) -> tuple[int, str | None] | None:
        """(journal id, status) when a resent packet is the scan journaled last, else None.

        SSI has no sequence number: a resent packet whose data equals this scanner's last
        journaled scan is a copy of it unless that scan's ACK is known to have reached the
        scanner, which then moved on, so the packet is a new read of the same label.
        That is known when this run answered it and NAKed nothing since (the scanner
        resends what it heard no ACK for), or when an earlier run answered it (the mark
        is written after the ACK and before the next packet is read, so the new read's
        first sending was lost with that run).
        """
        conn = self._state_connection()
        row = conn.execute(
            "SELECT j.id, j.raw, o.status FROM scan_journal j "
            "LEFT JOIN scan_outcomes o ON o.scan = j.id "
            "WHERE j.scanner = ? ORDER BY j.id DESC LIMIT 1",
            (self.config.name,),
        ).fetchone()
        if row is None or bytes(row[1]) != line[:JOURNAL_RAW_LIMIT]:
            return None
        scan_id, status = int(row[0]), row[2]
        answers = self._answers
        if scan_id == answers.acked_here:
            return None if answers.nak_since_ack else (scan_id, status)
        if scan_id == answers.mark.read():
            return None
        return scan_id, status

    def _answered(self, scan: SsiScan, reply: Reply) -> None:
        answers = self._answers
        if answers.pending is not None:
            answers.acked_here = answers.pending
            answers.mark.write(answers.pending)
            answers.pending = None
        answers.nak_since_ack = False
        self._write_counts()

    def _revision(self, revision: str) -> None:
        self._on_event(f"{self.config.name}: SSI scanner, revision {revision}")
        try:
            record_revision(self._state_connection(), self.config.name, revision)
        except sqlite3.Error as exc:
            self._on_event(f"{self.config.name}: revision not recorded ({exc})")

    def _write_counts(self, force: bool = False) -> None:
        answers = self._answers
        now = time.monotonic()
        if not answers.unsaid or (not force and now - answers.said_at < COUNTS_EVERY_S):
            return
        acks, resends, beeps = answers.acks, answers.resends, answers.error_beeps
        try:
            count_answers(
                self._state_connection(), self.config.name,
                acks=acks, resends=resends, error_beeps=beeps,
            )  # fmt: skip
        except sqlite3.Error as exc:
            # Counts for the screen wait for the database like everything else.
            log.debug("%s: answer counts not written (%s)", self.config.name, exc)
            return
        answers.acks -= acks
        answers.resends -= resends
        answers.error_beeps -= beeps
        answers.said_at = now

    def _state_connection(self) -> sqlite3.Connection:
        if self._state_conn is None:
            self._state_conn = connect(self.db_path)
        return self._state_conn

    def _lines(self, lines: list[LineRead]) -> None:
        self.feed.give(self.config.station, lines)

    def _held(self, count: int, reason: str | None) -> None:
        now = time.monotonic()
        if count == 0 or now - self._last_held_log >= HELD_LOG_EVERY_S:
            self._last_held_log = 0.0 if count == 0 else now
            words = held_words(count) + (f" ({reason})" if reason else "")
            self._on_event(f"{self.config.name}: {words}" if count else
                           f"{self.config.name}: the database takes writes again")  # fmt: skip
        if self._on_held is not None:
            self._on_held(count, reason)

    def _state(self, state: LinkChanged) -> None:
        config = self.config
        word = "connected" if state.connected else "lost"
        self._on_event(
            f"{config.name} ({config.url}) {word}" + (f": {state.error}" if state.error else "")
        )
        try:
            record_scanner(
                self._state_connection(), config.name, station=config.station, url=config.url,
                connected=state.connected, error=state.error, protocol=config.protocol,
            )  # fmt: skip
        except sqlite3.Error as exc:
            # The scanner's row waits for the database like its scans; the reader goes on.
            self._on_event(f"{config.name}: state not recorded ({exc})")
        if self._on_state is not None:
            self._on_state(state)


@dataclass
class _Answers:
    """What an SSI link answered: for telling resent copies apart, and the counts not yet
    on its Devices row."""

    mark: AckMark
    pending: int | None = None  # journal id of the scan whose answer is being written
    acked_here: int | None = None  # journal id this run last acknowledged
    nak_since_ack: bool = False
    acks: int = 0
    resends: int = 0
    error_beeps: int = 0
    said_at: float = 0.0

    @property
    def unsaid(self) -> bool:
        return bool(self.acks or self.resends or self.error_beeps)

    def count(self, event: str) -> None:
        if event == "ack":
            self.acks += 1
        elif event == "resend":
            self.resends += 1
        elif event == "error_beep":
            self.error_beeps += 1
        elif event == "nak":
            self.nak_since_ack = True


@dataclass
class Listener:
    """Links for a set of scanners, each feeding the pipeline with its own connection."""

    db_path: str
    scanners: list[ScannerConfig]
    on_event: Callable[[str], None] = log.info
    # Each scan's outcome, one line each; None: said through on_event.
    on_scan: Callable[[str], None] | None = None
    links: list[ScannerLink] = field(default_factory=list)
    # For a service manager (db.notify): `on_ready` once every scanner was opened or
    # found missing, with the names of those missing; `on_alive` after each heartbeat
    # that committed while nothing waited for the database, every `heartbeat_s`.
    on_ready: Callable[[list[str]], None] | None = None
    on_alive: Callable[[], None] | None = None
    heartbeat_s: float = HEARTBEAT_S
    _stopped: threading.Event = field(default_factory=threading.Event)
    _first_states: dict[str, bool] = field(default_factory=dict)
    _first_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def held(self) -> int:
        """Scans read and waiting for the database, over all scanners."""
        return sum(link.feed.held for link in self.links)

    def start(self) -> None:
        setup = connect(self.db_path)
        try:
            known = {r[0] for r in setup.execute("SELECT code FROM stations")}
            for config in self.scanners:
                if config.station not in known:
                    self.on_event(
                        f"warning: station {config.station} of scanner {config.name} is not "
                        "set up; its scans will be journaled and rejected until it is"
                    )
                try:
                    record_scanner(
                        setup, config.name, station=config.station, url=config.url,
                        connected=False, protocol=config.protocol,
                    )  # fmt: skip
                except sqlite3.OperationalError as exc:
                    self.on_event(f"{config.name}: not recorded yet ({exc}); reading anyway")
        finally:
            setup.close()
        threading.Thread(target=self._heartbeat, name="listen-heartbeat", daemon=True).start()
        for config in self.scanners:
            link = ScannerLink(
                self.db_path, config, on_result=self._result_logger(config),
                on_state=self._first_state, on_event=self.on_event,
            )  # fmt: skip
            self.links.append(link)
            link.start()

    def _result_logger(self, config: ScannerConfig) -> Callable[[FedLine, ScanResult], None]:
        tell = self.on_scan or self.on_event

        def say(line: FedLine, result: ScanResult) -> None:
            tell(f"{config.name} scan {result.scan_id} {result.status}: {result.message}")

        return say

    def _first_state(self, state: LinkChanged) -> None:
        # Called on each reader's thread, after its Devices row was written.
        with self._first_lock:
            if state.scanner in self._first_states or self.on_ready is None:
                return
            self._first_states[state.scanner] = state.connected
            if len(self._first_states) < len(self.scanners):
                return
        self.on_ready([name for name, up in self._first_states.items() if not up])

    def _heartbeat(self) -> None:
        conn = connect(self.db_path)
        names = [config.name for config in self.scanners]
        while not self._stopped.wait(self.heartbeat_s):
            try:
                mark_alive(conn, names)
            except sqlite3.Error as exc:  # a busy moment must not end the listener
                self.on_event(f"heartbeat not written: {exc}")
                continue
            if self.on_alive is not None and self.held == 0:
                self.on_alive()
        conn.close()

    def stop(self) -> None:
        """Stop reading; a batch being committed finishes first."""
        self._stopped.set()
        for link in self.links:
            link.stop(timeout=5.0)

    def wait(self, timeout: float | None = None) -> bool:
        return self._stopped.wait(timeout)
