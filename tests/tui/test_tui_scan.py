"""The scan station screen: the session in words, the keyboard wedge, outcomes and the
bell, scans arriving from other processes and from a local serial scanner.

Scans typed here go through db.pipeline's real pipeline into a copy of the demo plant
(see conftest); each test checks the journal and the ledger with SQL as well as what
the screen shows.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.geometry import Region
from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import OptionList, Static

from db import supervision
from db.connection import clock, connect
from devices.simulator import PtyScanner
from tests.conftest import BUILT_MS, fixed_now, make_app, settle, wait_until
from tui.app import ShopfloorApp
from tui.messages import ScanRecorded, ScansHeld
from tui.screens.scan import ScanScreen

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).resolve().parents[2]
SHOPFLOOR = str(Path(sys.executable).parent / "shopfloor")


@pytest.fixture
def db(demo_db: str) -> Iterator[sqlite3.Connection]:
    conn = connect(demo_db)
    yield conn
    conn.close()


@pytest.fixture
def bells(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every ring of the terminal bell (headless apps do not write the BEL byte)."""
    rung: list[float] = []
    monkeypatch.setattr(ShopfloorApp, "bell", lambda self: rung.append(time.monotonic()))
    return rung


async def scan(pilot: Pilot[Any], *codes: str, end: str = "enter") -> None:
    """Type each code and end it, as a keyboard-wedge scanner does: one burst of keys."""
    keys: list[str] = []
    for code in codes:
        keys += list(code) + [end]
    await pilot.press(*keys)


def station_screen(app: App[Any]) -> ScanScreen:
    screen = app.screen
    assert isinstance(screen, ScanScreen)
    return screen


def context(screen: ScanScreen, key: str) -> str:
    return str(screen.query_one(f"#context-{key}", Static).render())


def log_rows(screen: ScanScreen) -> list[list[str]]:
    """The log's rows as the screen draws them, each cell's words."""
    table = screen.log_table
    rows = [[cell.plain for cell in table.row_cells(key)] for key in table.keys]
    for key, cells in zip(table.keys, rows, strict=True):
        assert all(cell[:10] in table.line_text(key) for cell in cells)
    return rows


def journal(db: sqlite3.Connection, station: str) -> list[tuple[str, str, str]]:
    return [
        (bytes(r[0]).decode(), r[1], r[2])
        for r in db.execute(
            "SELECT j.raw, o.status, j.source FROM scan_journal j JOIN scan_outcomes o "
            "ON o.scan = j.id WHERE j.station = ? ORDER BY j.id",
            (station,),
        )
    ]


def orders_waiting_at_cut(db: sqlite3.Connection) -> list[str]:
    """Released orders whose first stage is CUT: their whole quantity waits there."""
    return [
        str(r[0])
        for r in db.execute(
            "SELECT w.number FROM work_orders w "
            "JOIN work_order_stages s ON s.work_order = w.number "
            "AND s.seq = (SELECT MIN(seq) FROM work_order_stages WHERE work_order = w.number) "
            "WHERE w.status = 'released' AND s.stage = 'CUT' AND w.qty_milli >= 3000 "
            "ORDER BY w.number"
        )
    ]


# ---------------------------------------------------------------- the station in words


async def test_station_shows_its_session_in_words(demo_db: str) -> None:
    app = make_app(demo_db, station="CUT-1")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = station_screen(app)
        assert context(screen, "mode") == "PROGRESS"
        assert context(screen, "operator") == "nobody signed in"
        assert context(screen, "stage") == "CUT"
        assert context(screen, "location") == "WIP-CUT"
        assert "Scan your badge to sign in" in str(screen.prompt.render())
        assert screen.scan_input.has_focus


async def test_a_wedge_burst_posts_every_scan_in_order(
    demo_db: str, db: sqlite3.Connection, bells: list[float]
) -> None:
    number = orders_waiting_at_cut(db)[0]
    codes = ["B2001", number, "QTY:2", "CMD:DONE"]
    app = make_app(demo_db, station="CUT-1")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = station_screen(app)
        await scan(pilot, *codes)
        await wait_until(pilot, lambda: len(log_rows(screen)) == 4)
        await settle(pilot)
        assert journal(db, "CUT-1") == [(code, "accepted", "keyboard") for code in codes]
        done = db.execute(
            "SELECT done_milli FROM work_order_stages WHERE work_order = ? AND stage = 'CUT'",
            (number,),
        ).fetchone()[0]
        assert done == 2000
        rows = log_rows(screen)
        assert [row[2] for row in rows] == codes[::-1]  # newest first
        assert all(row[3].startswith("✓") for row in rows)
        assert rows[0][3] == f"✓ completed 2 of {number} at CUT"
        assert context(screen, "operator") == "Kemal Aydin (B2001)"
        assert context(screen, "work_order").startswith(number)
        assert bells == []


async def test_tab_ends_a_scan_too(demo_db: str, db: sqlite3.Connection) -> None:
    app = make_app(demo_db, station="CUT-1")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = station_screen(app)
        await scan(pilot, "B2002", end="tab")
        await wait_until(pilot, lambda: context(screen, "operator") == "Grace Obi (B2002)")
        assert journal(db, "CUT-1") == [("B2002", "accepted", "keyboard")]
        assert screen.scan_input.has_focus and screen.scan_input.value == ""


async def test_a_rejection_is_red_rings_the_bell_and_keeps_the_context(
    demo_db: str, db: sqlite3.Connection, bells: list[float]
) -> None:
    app = make_app(demo_db, station="CUT-1")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = station_screen(app)
        await scan(pilot, "B2001", "NO-SUCH-LABEL")
        await wait_until(pilot, lambda: len(log_rows(screen)) == 2 and bool(bells))
        await settle(pilot)
        assert len(bells) == 1
        newest = log_rows(screen)[0]
        assert newest[2] == "NO-SUCH-LABEL"
        assert newest[3].startswith("✗ unknown barcode")
        assert str(screen.result_line.render()).startswith("✗ unknown barcode")
        assert screen.has_class("-rejected")
        assert context(screen, "operator") == "Kemal Aydin (B2001)"
        assert journal(db, "CUT-1")[-1] == ("NO-SUCH-LABEL", "rejected", "keyboard")


async def test_the_number_pad_number_shows_large_as_it_grows(
    demo_db: str, db: sqlite3.Connection
) -> None:
    """Issue 12: the number built key by key on the number pad is on the station screen
    in large digits (three rows of block glyphs) until the item scan takes it."""
    app = make_app(demo_db, station="RECEIVING")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = station_screen(app)
        block = screen.query_one("#scan-number")
        assert not block.display  # nothing being built: no room taken
        await scan(pilot, "B1001", "NUM:1", "NUM:2")
        await wait_until(pilot, lambda: screen.number.value == "12")
        await settle(pilot)
        assert block.display and screen.has_class("-building")
        assert screen.number.region.height == 3 and screen.number.region.width >= 6
        assert context(screen, "next") == "QTY 12 (number pad)"
        assert "next QTY 12 from the number pad" in str(screen.prompt.render())
        await scan(pilot, "NUM:.", "NUM:5")
        await wait_until(pilot, lambda: screen.number.value == "12.5")
        await settle(pilot)
        # Drawn in bold block glyphs three rows high: "12.5".
        size = screen.number.size
        drawn = [strip.text.rstrip() for strip in screen.number.render_lines(Region(0, 0, *size))]
        assert drawn == ["╺┓ ╺━┓ ┏━╸", " ┃ ┏━┛ ┗━┓", "╺┻╸┗━╸•╺━┛"]
        await scan(pilot, "NUT-M4")
        await wait_until(pilot, lambda: not screen.has_class("-building"))
        await settle(pilot)
        assert not block.display and screen.number.value == ""
        assert log_rows(screen)[0][3] == "✓ received 12.5 NUT-M4 into RCV-DOCK"
        assert journal(db, "RECEIVING")[-1] == ("NUT-M4", "accepted", "keyboard")


# ---------------------------------------------------------------- from elsewhere


async def test_scans_from_another_process_appear_and_ring(
    demo_db: str, db: sqlite3.Connection, bells: list[float]
) -> None:
    app = make_app(demo_db, station="CUT-1")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = station_screen(app)
        done = subprocess.run(
            [SHOPFLOOR, "scan", "--db", demo_db, "--station", "CUT-1", "B2003", "WHAT?"],
            cwd=ROOT,
            capture_output=True,
            timeout=30,
        )
        assert done.returncode == 1  # one scan was rejected
        # How fast is measured in bench/ (commit → screen); here: it arrives at all.
        await wait_until(pilot, lambda: len(log_rows(screen)) == 2, seconds=3)
        await wait_until(pilot, lambda: context(screen, "operator") == "Lukas Brandt (B2003)")
        assert [row[2] for row in log_rows(screen)] == ["WHAT?", "B2003"]
        assert len(bells) == 1


async def test_a_local_serial_scanner_feeds_the_station(
    demo_db: str, db: sqlite3.Connection
) -> None:
    scanner = PtyScanner()
    try:
        app = make_app(demo_db, station="CUT-1", scanner_url=scanner.device_path)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            screen = station_screen(app)

            def connected() -> bool:
                row = db.execute("SELECT connected FROM scanners WHERE name = 'cut-1-local'")
                return [tuple(r) for r in row] == [(1,)]

            await wait_until(pilot, connected)
            scanner.send("B2004")
            await wait_until(pilot, lambda: context(screen, "operator") == "Mei Lin (B2004)")
            assert journal(db, "CUT-1") == [("B2004", "accepted", "serial")]
            assert log_rows(screen)[0][2] == "B2004"
    finally:
        scanner.close()


# ---------------------------------------------------------------- picking a station


async def test_without_a_station_the_person_picks_one(demo_db: str, db: sqlite3.Connection) -> None:
    app = make_app(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        screen = station_screen(app)
        picker = screen.query_one("#station-picker", OptionList)
        assert screen.has_class("-picking") and picker.has_focus
        codes = [picker.get_option_at_index(i).id for i in range(picker.option_count)]
        assert codes == [r[0] for r in db.execute("SELECT code FROM stations ORDER BY code")]
        assert picker.highlighted == 0  # Enter alone picks the first
        # Commits elsewhere re-read the list; the person's highlight stays where it is.
        await pilot.press(*["down"] * codes.index("STORES"))
        conn = connect(demo_db)
        supervision.set_hold(conn, "WO-24003", True, by="B3001", reason="a commit elsewhere")
        conn.close()
        await pilot.pause(0.3)
        await settle(pilot)
        assert picker.highlighted == codes.index("STORES")
        await pilot.press("enter")
        await settle(pilot)
        assert screen.station == "STORES" and not screen.has_class("-picking")
        assert context(screen, "mode") == "ISSUE"
        await scan(pilot, "B1001")
        await wait_until(pilot, lambda: context(screen, "operator") == "Ana Ribeiro (B1001)")


async def test_a_scan_while_picking_is_refused_aloud_not_taken_as_a_pick(
    demo_db: str, db: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A badge scanned before the station is picked must not pick the highlighted
    station with its Enter; a station's code typed or scanned picks that station."""
    app = make_app(demo_db)
    said: list[tuple[str, str]] = []
    bells: list[int] = []
    original = app.notify

    def notify(message: str, **options: Any) -> None:
        said.append((message, str(options.get("severity", ""))))
        original(message, **options)

    monkeypatch.setattr(app, "notify", notify)
    monkeypatch.setattr(app, "bell", lambda: bells.append(1))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        screen = station_screen(app)
        await pilot.press(*"B1002", "enter")
        await settle(pilot)
        assert screen.station is None and screen.has_class("-picking")
        assert bells and said[-1][1] == "error" and "B1002 was not recorded" in said[-1][0]
        await pilot.press(*"stores", "enter")
        await settle(pilot)
        assert screen.station == "STORES" and not screen.has_class("-picking")


# ---------------------------------------------------------------- snapshots


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_scan_snapshot(demo_db: str, snap_compare: Any, size: tuple[int, int]) -> None:
    conn = connect(demo_db)
    number, held = orders_waiting_at_cut(conn)[:2]
    # Put an order on hold so one scan is refused with the ledger's words.
    supervision.set_hold(conn, held, True, by="B3001", reason="snapshot")
    conn.close()

    async def scan_some(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        screen = station_screen(pilot.app)
        await scan(pilot, "B2001", number, "QTY:3", "CMD:DONE", held, "CMD:DONE")
        await wait_until(pilot, lambda: len(log_rows(screen)) == 6)
        await settle(pilot)

    app = make_app(demo_db, station="CUT-1", live=False)
    # The record's clock holds still until the picture is taken: journal times on screen
    # come from it, and the station's idle time counts on it.
    with clock(fixed_now):
        assert snap_compare(app, terminal_size=size, run_before=scan_some)


async def test_typed_scans_during_a_write_lock_are_held_then_recorded(
    demo_db: str, db: sqlite3.Connection
) -> None:
    """Found: both scans typed during a lock ended "✗ not recorded: database is locked"."""
    before = db.execute("SELECT COALESCE(MAX(id), 0) FROM scan_journal").fetchone()[0]
    app = make_app(demo_db, station="RECEIVING", live=False)
    said: list[Message] = []
    async with app.run_test(size=(120, 40), message_hook=said.append) as pilot:
        await settle(pilot)
        screen = station_screen(app)
        lock = sqlite3.connect(demo_db, isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")
        try:
            await scan(pilot, "B1001", "NUT-M4")
            held = screen.query_one("#scan-held", Static)
            await wait_until(pilot, lambda: "2 scans held" in str(held.render()), 10)
            assert screen.has_class("-held")
            assert "not recorded" not in str(screen.result_line.render())
        finally:
            lock.execute("ROLLBACK")
            lock.close()
        await wait_until(pilot, lambda: not screen.has_class("-held"), 10)
        await wait_until(pilot, lambda: "received 1 NUT-M4" in str(screen.result_line.render()))
    # The feed said so as it happened: two scans held, then none; both then recorded.
    counts = [m.count for m in said if isinstance(m, ScansHeld)]
    assert 2 in counts and counts[-1] == 0, counts
    outcomes = [(m.status, m.message) for m in said if isinstance(m, ScanRecorded)]
    assert [status for status, _ in outcomes] == ["accepted", "accepted"], outcomes
    rows = db.execute(
        "SELECT j.raw, j.source, o.status FROM scan_journal j JOIN scan_outcomes o "
        "ON o.scan = j.id WHERE j.id > ? ORDER BY j.id",
        (before,),
    ).fetchall()
    assert [(bytes(r[0]), r[1], r[2]) for r in rows] == [
        (b"B1001", "keyboard", "accepted"),
        (b"NUT-M4", "keyboard", "accepted"),
    ]


async def test_the_station_says_when_its_own_scanner_is_not_reaching_the_record(
    demo_db: str, db: sqlite3.Connection
) -> None:
    """Found: the scan screen never said its scanner was gone."""
    from db.scanners import record_scanner

    def banner(screen: ScanScreen) -> str:
        return str(screen.query_one("#scan-scanner-lost", Static).render())

    with clock(lambda: BUILT_MS - 60_000):
        record_scanner(db, "CUT-1-A", station="CUT-1", url="/dev/ttyUSB0", connected=False)
        record_scanner(db, "BEND-1-A", station="BEND-1", url="/dev/ttyUSB1", connected=False)
    app = make_app(demo_db, station="CUT-1")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = station_screen(app)
        assert screen.has_class("-scanner-lost")
        words = banner(screen)
        assert "scanner CUT-1-A lost since" in words and "type the barcode here" in words
        assert "BEND-1-A" not in words, "another station's scanner is not this one's worry"
        # Its reader finds it again: the banner goes.
        with clock(fixed_now):
            record_scanner(db, "CUT-1-A", station="CUT-1", url="/dev/ttyUSB0", connected=True)
        await wait_until(pilot, lambda: not screen.has_class("-scanner-lost"))
        # Its reader dies without a word: the heartbeat ages past the rule's limit.
        with clock(lambda: BUILT_MS - 60_000):
            record_scanner(db, "CUT-1-A", station="CUT-1", url="/dev/ttyUSB0", connected=True)
        await wait_until(pilot, lambda: "no reader since" in banner(screen))
