"""The headless reader: scanners bound to stations, each line through the scan pipeline.

`shopfloor listen` runs one `ScannerReader` thread per scanner; each reader hands over
every complete line of one read as a batch, which is journaled and posted in one
commit before the reader reads again. So at a kill -9 the only lines that can be
missing are those of the batch being committed; lines still in the device's buffer
are read after the restart. Scanner state changes go to the `scanners` table for the
Devices screen, and to the log.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from db.connection import connect, now_ms, write
from db.scanning import ScanInput, process_batch, record_scanner
from devices.reader import LineRead, ScannerConfig, ScannerReader, ScannerState

log = logging.getLogger("shopfloor.listen")

# How often a running listener says it is alive; the Devices screen calls a scanner's
# reader gone (killed, machine down) when it has not heard for STALE_AFTER_MS.
HEARTBEAT_S = 5.0
STALE_AFTER_MS = 15_000


class ConfigError(ValueError):
    """A scanner configuration a person has to fix; the message says where."""


_FIELDS = {"name", "url", "station", "baud", "terminator", "max_line", "dedupe_ms", "vid", "pid",
           "serial_number"}  # fmt: skip


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
    if entry.get("terminator", "auto") not in ("auto", "CR", "LF", "CRLF"):
        raise ConfigError(f"{path}: scanner {n}: terminator must be auto, CR, LF or CRLF")
    settings = dict(entry)
    settings.setdefault("name", f"{entry['station']}-{n}")
    try:
        return ScannerConfig(**settings)
    except TypeError as exc:
        raise ConfigError(f"{path}: scanner {n}: {exc}") from None


def parse_scanner_option(option: str, n: int) -> ScannerConfig:
    """`STATION=URL` from the command line."""
    station, sep, url = option.partition("=")
    if not sep or not station or not url:
        raise ConfigError(
            f"--scanner {option!r}: write it as STATION=URL, e.g. STORES=/dev/ttyACM0"
        )
    return ScannerConfig(name=f"{station}-{n}", url=url, station=station)


@dataclass
class Listener:
    """Readers for a set of scanners, each feeding the pipeline with its own connection."""

    db_path: str
    scanners: list[ScannerConfig]
    on_event: Callable[[str], None] = log.info
    readers: list[ScannerReader] = field(default_factory=list)
    _stopped: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        setup = connect(self.db_path)
        known = {r[0] for r in setup.execute("SELECT code FROM stations")}
        for config in self.scanners:
            if config.station not in known:
                self.on_event(
                    f"warning: station {config.station} of scanner {config.name} is not set up; "
                    "its scans will be journaled and rejected until it is"
                )
            record_scanner(
                setup, config.name, station=config.station, url=config.url, connected=False
            )
        setup.close()
        threading.Thread(target=self._heartbeat, name="listen-heartbeat", daemon=True).start()
        for config in self.scanners:
            reader = ScannerReader(
                config, on_lines=self._lines_handler(config), on_state=self._state_handler(config)
            )
            self.readers.append(reader)
            reader.start()

    def _lines_handler(self, config: ScannerConfig) -> Callable[[list[LineRead]], None]:
        conn = connect(self.db_path)

        def handle(lines: list[LineRead]) -> None:
            batch = [
                ScanInput(
                    station=config.station,
                    raw=line.raw,
                    source="serial",
                    scanner=config.name,
                    at_ms=line.at_ms,
                    length=line.length,
                    dedupe_ms=config.dedupe_ms,
                )  # fmt: skip
                for line in lines
            ]
            for result in process_batch(conn, batch):
                self.on_event(
                    f"{config.name} scan {result.scan_id} {result.status}: {result.message}"
                )

        return handle

    def _state_handler(self, config: ScannerConfig) -> Callable[[ScannerState], None]:
        conn: sqlite3.Connection | None = None

        def handle(state: ScannerState) -> None:
            nonlocal conn
            if conn is None:
                conn = connect(self.db_path)
            record_scanner(
                conn, config.name, station=config.station, url=config.url,
                connected=state.connected, error=state.error,
            )  # fmt: skip
            word = "connected" if state.connected else "lost"
            self.on_event(
                f"{config.name} ({config.url}) {word}" + (f": {state.error}" if state.error else "")
            )

        return handle

    def _heartbeat(self) -> None:
        conn = connect(self.db_path)
        names = [config.name for config in self.scanners]
        marks = ", ".join("?" for _ in names)
        while not self._stopped.wait(HEARTBEAT_S):
            try:
                with write(conn):
                    conn.execute(
                        f"UPDATE scanners SET updated_ms = ? WHERE name IN ({marks})",
                        (now_ms(), *names),
                    )
            except sqlite3.Error as exc:  # a busy moment must not end the listener
                self.on_event(f"heartbeat not written: {exc}")
        conn.close()

    def stop(self) -> None:
        """Stop reading; a batch being committed finishes first."""
        self._stopped.set()
        for reader in self.readers:
            reader.stop(timeout=5.0)
        self._stopped.set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._stopped.wait(timeout)
