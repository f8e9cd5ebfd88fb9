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
from db.pipeline import ScanResult
from db.scanners import HEARTBEAT_S, mark_alive, record_scanner
from db.spool import FedLine, held_words
from devices.reader import LineRead, LinkChanged, ScannerConfig, ScannerReader, Terminator

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
        self.feed = ScanFeed(
            db_path, name=config.name, source="serial", scanner=config.name,
            dedupe_ms=config.dedupe_ms, on_result=on_result, on_held=self._held,
        )  # fmt: skip
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
        self.reader.stop(timeout=timeout)
        self.feed.close()

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
            if self._state_conn is None:
                self._state_conn = connect(self.db_path)
            record_scanner(
                self._state_conn, config.name, station=config.station, url=config.url,
                connected=state.connected, error=state.error,
            )  # fmt: skip
        except sqlite3.Error as exc:
            # The scanner's row waits for the database like its scans; the reader goes on.
            self._on_event(f"{config.name}: state not recorded ({exc})")
        if self._on_state is not None:
            self._on_state(state)


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
                        connected=False,
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
