"""The Stock, Stages, Inbox and Devices screens, driven by Pilot on the demo plant.

Each test pushes one screen onto a bare host app over a copy of the demo database,
at the floor's small (80x24) and large (160x48) sizes, and checks what is on screen
against the record read directly with SQL. The plant is built under a fixed clock and
the screens get a fixed `now_ms`, in UTC, so the SVG snapshots never move with the
calendar or the machine's time zone.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.text import Text
from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import DataTable, Input

from db import balances, inbox, ledger, pipeline, progress, roles, stages, stock
from db.connection import clock, connect, write
from db.demo import create_demo_db, gtin_for
from db.quantity import text as qty_text
from db.times import clock_time
from tui.dialogs import SupervisorDialog
from tui.floor_screen import FloorScreen
from tui.messages import FloorChanged
from tui.screens.devices import DevicesScreen
from tui.screens.inbox import InboxScreen
from tui.screens.stages import StagesScreen
from tui.screens.stock import StockScreen
from tui.widgets.cell_table import CellTable

pytestmark = pytest.mark.timeout(30)

HOUR_MS = 3_600_000
# The demo plant is built as if it were this moment (2026-11-18 11:00 UTC)...
BUILT_MS = int(datetime(2026, 11, 18, 11, tzinfo=UTC).timestamp() * 1000)
# ...its history ends about 29 h earlier; the screens look at it an hour after that.
NOW_MS = BUILT_MS - 28 * HOUR_MS
SIZES = [(80, 24), (160, 48)]
OPEN = ("released", "in_progress", "on_hold")


def fixed_now() -> int:
    return NOW_MS


# ---------------------------------------------------------------- fixtures


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time is UTC in these tests: "today" and clock times do not depend on the host."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture(scope="module")
def plant_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("plant") / "demo.db"
    with clock(lambda: BUILT_MS):
        conn = create_demo_db(path)
    # Due dates are drawn relative to the real today: pin them to the fixed clock.
    base = datetime.fromtimestamp(BUILT_MS / 1000, UTC).date()
    with write(conn):
        for (number,) in conn.execute("SELECT number FROM work_orders").fetchall():
            due = base + timedelta(days=int(number[3:]) % 18 - 3)
            conn.execute(
                "UPDATE work_orders SET due = ? WHERE number = ?", (due.isoformat(), number)
            )
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return path


@pytest.fixture
def plant(tmp_path: Path, plant_template: Path) -> str:
    """A fresh copy of the demo plant for one test."""
    path = tmp_path / "demo.db"
    shutil.copy(plant_template, path)
    return str(path)


@pytest.fixture
def db(plant: str) -> Iterator[sqlite3.Connection]:
    conn = connect(plant)
    yield conn
    conn.close()


class Host(App[None]):
    """The smallest app that shows one floor screen."""

    def __init__(self, screen: FloorScreen) -> None:
        super().__init__()
        self.floor_screen = screen

    def on_mount(self) -> None:
        self.push_screen(self.floor_screen)


async def settle(pilot: Pilot[Any]) -> None:
    """Let reloads (thread workers) finish and their results reach the screen."""
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def top(pilot: Pilot[Any]) -> Screen[Any]:
    """The screen on top of the stack (a call, so a check before does not narrow it)."""
    return pilot.app.screen


def cells(table: DataTable[Any] | CellTable, key: str) -> list[str]:
    if isinstance(table, CellTable):
        words = table.cells_of(key)
        assert all(word[:8] in table.line_text(key) for word in words)
        return words
    return [cell.plain if isinstance(cell, Text) else str(cell) for cell in table.get_row(key)]


def row_keys(table: DataTable[Any]) -> list[str]:
    return [str(key.value) for key in table.rows]


def column_keys(table: DataTable[Any] | CellTable) -> list[str]:
    if isinstance(table, CellTable):
        return list(table.column_keys)
    return [str(key.value) for key in table.columns]


def insert_rejected(
    conn: sqlite3.Connection, station: str, raw: bytes, reason: str, at: int
) -> int:
    with write(conn):
        cur = conn.execute(
            "INSERT INTO scan_journal (time_ms, source, scanner, station, raw, raw_length) "
            "VALUES (?, 'serial', NULL, ?, ?, ?)",
            (at, station, raw, len(raw)),
        )
        scan_id = int(cur.lastrowid or 0)
        conn.execute(
            "INSERT INTO scan_outcomes (scan, status, message) VALUES (?, 'rejected', ?)",
            (scan_id, reason),
        )
    return scan_id


def insert_scanner(conn: sqlite3.Connection, name: str, station: str, **values: Any) -> None:
    row = {
        "url": "/dev/ttyACM0",
        "connected": 1,
        "last_scan_ms": NOW_MS - 12_000,
        "scans": 412,
        "errors": 0,
        "last_error": None,
        "updated_ms": NOW_MS,
        "protocol": "lines",
        "revision": None,
        "acks": 0,
        "resends": 0,
        "error_beeps": 0,
    } | values
    with write(conn):
        conn.execute(
            "INSERT INTO scanners (name, station, url, connected, last_scan_ms, scans, errors, "
            "last_error, updated_ms, protocol, revision, acks, resends, error_beeps) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO "
            "UPDATE SET connected = excluded.connected, errors = excluded.errors, "
            "last_error = excluded.last_error, last_scan_ms = excluded.last_scan_ms, "
            "acks = excluded.acks, resends = excluded.resends, "
            "error_beeps = excluded.error_beeps",
            (name, station, row["url"], row["connected"], row["last_scan_ms"], row["scans"],
             row["errors"], row["last_error"], row["updated_ms"], row["protocol"],
             row["revision"], row["acks"], row["resends"], row["error_beeps"]),
        )  # fmt: skip


# ---------------------------------------------------------------- stock


@pytest.mark.parametrize("size", SIZES)
async def test_stock_search_shows_locations_and_history(
    plant: str, db: sqlite3.Connection, size: tuple[int, int]
) -> None:
    screen = StockScreen(plant, now_ms=fixed_now)
    async with Host(screen).run_test(size=size) as pilot:
        await settle(pilot)
        screen.search_box.value = "steel sheet 1.5"
        await settle(pilot)
        assert "item:SH-ST-15" in row_keys(screen.results_table)

        await pilot.press("enter")
        await settle(pilot)
        assert screen.choice == ("item", "SH-ST-15")
        stock = db.execute(
            "SELECT location, lot, qty_milli FROM stock WHERE item = 'SH-ST-15' "
            "AND qty_milli != 0 ORDER BY location, lot"
        ).fetchall()
        assert row_keys(screen.on_hand_table) == [f"{r['location']}\t{r['lot']}" for r in stock]
        first = cells(screen.on_hand_table, f"{stock[0]['location']}\t{stock[0]['lot']}")
        assert qty_text(stock[0]["qty_milli"]) in first

        movements = [
            str(r[0])
            for r in db.execute(
                "SELECT id FROM movements WHERE item = 'SH-ST-15' ORDER BY id DESC"
            ).fetchall()
        ]
        assert screen.history_table.keys == movements  # all of them, newest first
        assert screen.history_table.display


async def test_stock_flags_negative_stock_and_pages_history(
    plant: str, db: sqlite3.Connection
) -> None:
    # 250 receipts of one unit, then more moved out of the bin than it holds, where a
    # supervisor allowed negative stock.
    for _ in range(250):
        ledger.receive(db, "NUT-M4", 1000, "RCV-DOCK")
    roles.allow_negative_stock(db, ["receiving"], by="B3001", reason="dock counts lag")
    on_dock = balances.on_hand(db, "NUT-M4", "RCV-DOCK")
    ledger.transfer(db, "NUT-M4", on_dock + 5000, "RCV-DOCK", "A-01")
    total = db.execute("SELECT COUNT(*) FROM movements WHERE item = 'NUT-M4'").fetchone()[0]

    screen = StockScreen(plant, now_ms=fixed_now)
    async with Host(screen).run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen.show_code("NUT-M4")
        await settle(pilot)
        negative = cells(screen.on_hand_table, "RCV-DOCK\t")
        assert "-5" in negative and "⚠ negative" in negative
        assert screen.history_table.row_count == 200

        screen.history_table.focus()
        await pilot.press("m")
        await settle(pilot)
        assert screen.history_table.row_count == total


@pytest.mark.parametrize("size", SIZES)
async def test_show_code_jumps_to_locations_items_and_gtins(
    plant: str, db: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]
) -> None:
    screen = StockScreen(plant, now_ms=fixed_now)
    warnings: list[str] = []
    async with Host(screen).run_test(size=size) as pilot:
        await settle(pilot)
        screen.show_code("B-04")
        await settle(pilot)
        assert screen.choice == ("location", "B-04")
        items = db.execute(
            "SELECT item, lot FROM stock WHERE location = 'B-04' AND qty_milli != 0 "
            "ORDER BY item, lot"
        ).fetchall()
        assert row_keys(screen.on_hand_table) == [f"{r['item']}\t{r['lot']}" for r in items]
        assert not screen.history_table.display

        # Enter on a row of the location goes to that item.
        screen.on_hand_table.focus()
        await pilot.press("enter")
        await settle(pilot)
        assert screen.choice == ("item", items[0]["item"])

        # DIN-35 is the tenth purchased item and carries a GTIN: a scan of it finds the item.
        screen.show_code(gtin_for(10))
        await settle(pilot)
        assert screen.choice == ("item", "DIN-35")
        assert screen.search_box.value == gtin_for(10)

        monkeypatch.setattr(screen, "notify", lambda message, **_: warnings.append(str(message)))
        screen.show_code("NO-SUCH-THING")
        await settle(pilot)
        assert screen.choice == ("item", "DIN-35")  # nothing found: stay where we were
        assert warnings == ["No item or location has the code NO-SUCH-THING"]


async def test_show_code_of_a_malformed_gs1_label_warns_instead_of_raising(
    plant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # AI 30 with no digits after it, as the palette or a wedge scan hands it over.
    screen = StockScreen(plant, now_ms=fixed_now)
    warnings: list[str] = []
    async with Host(screen).run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen.show_code("PWD-7035")
        await settle(pilot)
        monkeypatch.setattr(screen, "notify", lambda message, **_: warnings.append(str(message)))
        for code in (f"]C1010{gtin_for(1)}30", f"]C1010{gtin_for(1)}30\x1d10ABC"):
            screen.show_code(code)
            await settle(pilot)
            assert screen.choice == ("item", "PWD-7035")  # what was on show stays
        assert warnings == [
            f"No item or location has the code ]C1010{gtin_for(1)}30",
            f"No item or location has the code ]C1010{gtin_for(1)}30\x1d10ABC",
        ]
        assert not pilot.app._exception


async def test_stock_shows_lot_dates_and_a_supervisor_allows_an_expired_lot(
    plant: str, db: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A lot of powder that expired before the screen's today (2026-11-17), and one that has not.
    old = date(2026, 10, 31)
    ledger.receive(db, "PWD-7035", 5000, "B-04", lot="OLD", expiry=old, produced=date(2026, 1, 5))
    ledger.receive(db, "PWD-7035", 5000, "B-04", lot="FRESH", expiry=date(2027, 5, 31))
    screen = StockScreen(plant, now_ms=fixed_now)
    said: list[str] = []
    async with Host(screen).run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        screen.show_code("PWD-7035")
        await settle(pilot)
        assert column_keys(screen.on_hand_table)[2:5] == ["lot", "expiry", "produced"]
        assert cells(screen.on_hand_table, "B-04\tOLD")[2:5] == ["OLD", "2026-10-31", "2026-01-05"]
        assert cells(screen.on_hand_table, "B-04\tOLD")[-1] == "⚠ expired"
        assert cells(screen.on_hand_table, "B-04\tFRESH")[2:5] == ["FRESH", "2027-05-31", "—"]
        assert cells(screen.on_hand_table, "B-04\tFRESH")[-1] == ""

        monkeypatch.setattr(screen, "notify", lambda message, **_: said.append(str(message)))
        screen.on_hand_table.focus()
        screen.on_hand_table.move_cursor(row=screen.on_hand_table.get_row_index("B-04\tOLD"))
        await pilot.press("a")
        await pilot.pause()
        dialog = top(pilot)
        assert isinstance(dialog, SupervisorDialog)
        dialog.reason_input.value = "lab retest passed"
        dialog.badge_input.value = "B3001"
        dialog.badge_input.focus()
        await pilot.press("enter")
        await settle(pilot)
        assert said == ["lot OLD of PWD-7035 may be issued although expired"]
        allowed = db.execute("SELECT by_operator, reason FROM lot_allowances").fetchall()
        assert [tuple(r) for r in allowed] == [("B3001", "lab retest passed")]
        assert cells(screen.on_hand_table, "B-04\tOLD")[-1] == "expired, allowed"
        assert not screen.check_action("allow_expired", ())


async def test_show_code_before_the_screen_is_shown(plant: str) -> None:
    # The command palette may jump before the screen was ever on the stack.
    screen = StockScreen(plant, now_ms=fixed_now)
    screen.show_code("FG-01")
    async with Host(screen).run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert screen.choice == ("location", "FG-01")
        assert screen.search_box.value == "FG-01"


def test_search_ranks_exact_codes_first_and_takes_wildcards_literally(
    db: sqlite3.Connection,
) -> None:
    hits = stock.search(db, "A-01")
    assert (hits[0].kind, hits[0].code) == ("location", "A-01")
    assert stock.search(db, "%") == []  # a literal percent sign, not "everything"
    assert [h.code for h in stock.search(db, "RAL 7035")] == ["PWD-7035"]


def test_clock_times_read_the_way_the_floor_reads_them() -> None:
    # Relative times ("12s ago") are tests/tui/test_formatting.py's.
    assert clock_time(NOW_MS - 60_000, now_ms=NOW_MS) == "06:59:00"
    assert clock_time(NOW_MS - 8 * HOUR_MS, now_ms=NOW_MS) == "11-16 23:00"


# ---------------------------------------------------------------- stages


def expected_stage_figures(conn: sqlite3.Connection) -> dict[str, tuple[int, int, int]]:
    """Per stage (WIP, orders queued, completed today), straight from the tables."""
    figures: dict[str, tuple[int, int, int]] = {}
    rows = conn.execute(
        f"""
        SELECT s.stage,
               COALESCE((SELECT p.done_milli FROM work_order_stages p
                          WHERE p.work_order = s.work_order AND p.seq < s.seq
                          ORDER BY p.seq DESC LIMIT 1), w.qty_milli)
               - s.done_milli - s.scrap_milli AS waiting
        FROM work_order_stages s JOIN work_orders w ON w.number = s.work_order
        WHERE w.status IN {OPEN}
        """
    ).fetchall()
    midnight = int(
        datetime.combine(date.fromtimestamp(NOW_MS / 1000), datetime.min.time(), UTC).timestamp()
        * 1000
    )
    for (code,) in conn.execute("SELECT code FROM stages"):
        waiting = [r["waiting"] for r in rows if r["stage"] == code]
        done = conn.execute(
            "SELECT COALESCE(SUM(qty_milli), 0) FROM progress_entries p WHERE stage = ? "
            "AND kind = 'done' AND reverses IS NULL AND time_ms >= ? AND time_ms <= ? "
            "AND id NOT IN (SELECT reverses FROM progress_entries WHERE reverses IS NOT NULL)",
            (code, midnight, NOW_MS),
        ).fetchone()[0]
        figures[code] = (sum(waiting), sum(1 for w in waiting if w > 0), int(done))
    return figures


@pytest.mark.parametrize("size", SIZES)
async def test_stages_show_wip_queue_and_today_per_stage(
    plant: str, db: sqlite3.Connection, size: tuple[int, int]
) -> None:
    # Undo one of today's completions: it must drop out of "today".
    midnight = NOW_MS - NOW_MS % 86_400_000
    undone = db.execute(
        "SELECT id FROM progress_entries WHERE kind = 'done' AND time_ms BETWEEN ? AND ? "
        "AND stage = 'PACK' ORDER BY id DESC LIMIT 1",
        (midnight, NOW_MS),
    ).fetchone()[0]
    with clock(lambda: NOW_MS - 60_000):
        progress.reverse_progress(db, undone)
    expected = expected_stage_figures(db)

    screen = StagesScreen(plant, now_ms=fixed_now)
    async with Host(screen).run_test(size=size) as pilot:
        await settle(pilot)
        table = screen.stages_table
        assert row_keys(table) == ["CUT", "BEND", "WELD", "PAINT", "ASSY", "PACK"]
        for code, (wip, queued, today) in expected.items():
            row = cells(table, code)
            assert row[2:5] == [qty_text(wip), str(queued), qty_text(today)], code
        assert any(today for _, _, today in expected.values())
        assert screen.sparkline.data is not None and len(screen.sparkline.data) == 24

        # Highlighting a stage lists the open orders waiting there, most urgent first.
        await pilot.press("down", "down")
        await settle(pilot)
        assert screen.stage == "WELD"
        waiting = [
            r["work_order"]
            for r in db.execute(
                f"""
                SELECT s.work_order FROM work_order_stages s
                JOIN work_orders w ON w.number = s.work_order
                WHERE s.stage = 'WELD' AND w.status IN {OPEN}
                  AND COALESCE((SELECT p.done_milli FROM work_order_stages p
                                 WHERE p.work_order = s.work_order AND p.seq < s.seq
                                 ORDER BY p.seq DESC LIMIT 1), w.qty_milli)
                      - s.done_milli - s.scrap_milli > 0
                ORDER BY w.due, w.priority, w.number
                """
            )
        ]
        assert waiting and screen.orders_table.keys == waiting
        for number in waiting:
            assert number in screen.orders_table.line_text(number)

        await pilot.press("t")
        await settle(pilot)
        assert screen.span == "days" and len(screen.sparkline.data) == 7


async def test_stages_follow_a_completion_and_ignore_what_changes_no_stage(
    plant: str, db: sqlite3.Connection
) -> None:
    """An issue elsewhere leaves the stage figures as they were; a completion moves
    units from one stage's WIP to the next, and the queue follows."""
    screen = StagesScreen(plant, now_ms=fixed_now)
    async with Host(screen).run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert screen.stage == "CUT"
        number = screen.orders_table.keys[0]
        before = {code: cells(screen.stages_table, code)[2:5] for code in ("CUT", "BEND")}

        item, location = db.execute(
            "SELECT s.item, s.location FROM stock s JOIN items i ON i.sku = s.item "
            "WHERE s.qty_milli >= 1000 AND s.lot = '' AND i.lot_tracked = 0 "
            "AND s.location IN (SELECT code FROM locations WHERE kind = 'storeroom') LIMIT 1"
        ).fetchone()
        with clock(fixed_now):
            ledger.issue(db, number, item, 1000, location)
        screen.post_message(FloorChanged(0))
        await settle(pilot)
        assert {code: cells(screen.stages_table, code)[2:5] for code in before} == before

        waiting = stages.orders_at_stage(db, "CUT")[0]
        assert waiting.number == number
        with clock(fixed_now):
            progress.report_progress(db, number, "CUT", waiting.waiting_milli)
        screen.post_message(FloorChanged(0))
        await settle(pilot)
        expected = expected_stage_figures(db)
        for code in before:
            wip, queued, today = expected[code]
            row = cells(screen.stages_table, code)
            assert row[2:5] == [qty_text(wip), str(queued), qty_text(today)], code
        assert cells(screen.stages_table, "CUT")[2] != before["CUT"][0]
        assert number not in screen.orders_table.keys


# ---------------------------------------------------------------- inbox


@pytest.mark.parametrize("size", SIZES)
async def test_inbox_lists_unresolved_rejections_newest_first(
    plant: str, db: sqlite3.Connection, size: tuple[int, int]
) -> None:
    older = insert_rejected(db, "STORES", b"SCR-M8X20", "unknown barcode SCR-M8X20", NOW_MS - 9000)
    newer = insert_rejected(db, "ASSY-1", b"\xff[x]", "not a barcode: invalid UTF-8", NOW_MS)
    resolved = insert_rejected(db, "CUT-1", b"WO-99999", "unknown barcode", NOW_MS)
    inbox.dismiss_scan(db, resolved, by="B3001", note="test label")

    screen = InboxScreen(plant, now_ms=fixed_now)
    async with Host(screen).run_test(size=size) as pilot:
        await settle(pilot)
        assert row_keys(screen.table) == [str(newer), str(older)]
        row = cells(screen.table, str(older))
        assert row[0] == "06:59:51" and row[1] == "STORES" and "SCR-M8X20" in row
        # Raw bytes are shown escaped and never read as markup.
        assert "\\xff[x]" in cells(screen.table, str(newer))


async def test_inbox_dismiss_with_a_supervisor_badge(plant: str, db: sqlite3.Connection) -> None:
    scan_id = insert_rejected(db, "STORES", b"SCR-M8X20", "unknown barcode", NOW_MS)
    screen = InboxScreen(plant, now_ms=fixed_now)
    async with Host(screen).run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(top(pilot), SupervisorDialog)
        await pilot.press(*"misprint", "enter")  # the note, typed
        await pilot.press(*"B3001", "enter")  # then the badge, as a wedge scanner sends it
        await settle(pilot)
        assert top(pilot) is screen
        resolution = db.execute(
            "SELECT action, by_operator, note FROM inbox_resolutions WHERE scan = ?", (scan_id,)
        ).fetchone()
        assert tuple(resolution) == ("dismissed", "B3001", "misprint")
        assert screen.table.row_count == 0


async def test_inbox_replay_after_master_data_is_fixed(plant: str, db: sqlite3.Connection) -> None:
    pipeline.process_scan(db, "RECEIVING", b"B1001")
    rejected = pipeline.process_scan(db, "RECEIVING", b"NEW-BOLT")
    assert rejected.status == "rejected"
    with write(db):  # the fix: the item joins the master data
        db.execute(
            "INSERT INTO items (sku, description, uom, barcode) "
            "VALUES ('NEW-BOLT', 'Bolt M8x30', 'pcs', 'NEW-BOLT')"
        )
        db.execute(
            "INSERT INTO barcodes (value, kind, code) VALUES ('NEW-BOLT', 'item', 'NEW-BOLT')"
        )

    screen = InboxScreen(plant, now_ms=fixed_now)
    async with Host(screen).run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        assert row_keys(screen.table) == [str(rejected.scan_id)]
        await pilot.press("r")
        await pilot.pause()
        await pilot.press(*"B3002", "enter")
        await settle(pilot)
        action = db.execute(
            "SELECT action, by_operator FROM inbox_resolutions WHERE scan = ?",
            (rejected.scan_id,),
        ).fetchone()
        assert tuple(action) == ("replayed", "B3002")
        assert balances.on_hand(db, "NEW-BOLT", "RCV-DOCK") == 1000
        assert screen.table.row_count == 0


async def test_inbox_refuses_a_badge_without_the_role(plant: str, db: sqlite3.Connection) -> None:
    scan_id = insert_rejected(db, "STORES", b"SCR-M8X20", "unknown barcode", NOW_MS)
    screen = InboxScreen(plant, now_ms=fixed_now)
    async with Host(screen).run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await pilot.pause()
        await pilot.press(*"misprint", "enter")
        await pilot.press(*"B2001", "enter")  # Kemal Aydin, an operator
        await settle(pilot)
        dialog = top(pilot)
        assert isinstance(dialog, SupervisorDialog), "the refusal keeps the dialog open"
        refusal = str(dialog.error.render())
        assert refusal == "Kemal Aydin is operator; replay needs a supervisor"
        assert dialog.reason_input.value == "misprint", "the note stays for the next badge"
        resolved = "SELECT COUNT(*) FROM inbox_resolutions WHERE scan = ?"
        assert db.execute(resolved, (scan_id,)).fetchone()[0] == 0
        await pilot.press("escape")
        await settle(pilot)
        assert row_keys(screen.table) == [str(scan_id)]


async def test_inbox_filters_by_station_reason_and_age_and_dismisses_them_all(
    plant: str, db: sqlite3.Connection
) -> None:
    """Found: one person's session left 28 items, dismissed one by one."""
    hour = 3_600_000
    slips = [
        insert_rejected(
            db, "STORES", f"QTY:{n}x".encode(), "QTY: needs a number", NOW_MS - 3 * hour
        )
        for n in range(4)
    ]
    recent = insert_rejected(db, "STORES", b"QTY:zz", "QTY: needs a number", NOW_MS - 60_000)
    elsewhere = insert_rejected(db, "CUT-1", b"WO-X", "unknown barcode 'WO-X'", NOW_MS - 5 * hour)
    screen = InboxScreen(plant, now_ms=fixed_now)
    async with Host(screen).run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert len(screen.scans) == 6
        await pilot.press("slash")
        await pilot.press(*"stores qty >2h")
        await settle(pilot)
        assert [scan.id for scan in screen.scans] == slips[::-1]
        assert "4 of 6 rejected scans match" in str(screen.heading.render())
        await pilot.press("enter")  # back to the list
        await pilot.press("D")
        await pilot.pause()
        dialog = top(pilot)
        assert isinstance(dialog, SupervisorDialog)
        await pilot.press(*"one person's typos", "enter")
        await pilot.press(*"B3001", "enter")
        await settle(pilot)
        assert top(pilot) is screen
        notes = db.execute(
            "SELECT scan, note, by_operator FROM inbox_resolutions ORDER BY scan"
        ).fetchall()
        assert [tuple(n) for n in notes] == [(i, "one person's typos", "B3001") for i in slips]
        await pilot.press("slash", *["backspace"] * 20)
        await settle(pilot)
        assert sorted(scan.id for scan in screen.scans) == [recent, elsewhere]


async def test_badge_prompt_cancels_with_escape(plant: str, db: sqlite3.Connection) -> None:
    insert_rejected(db, "STORES", b"SCR-M8X20", "unknown barcode", NOW_MS)
    screen = InboxScreen(plant, now_ms=fixed_now)
    async with Host(screen).run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("escape")
        await settle(pilot)
        assert top(pilot) is screen
        assert db.execute("SELECT COUNT(*) FROM inbox_resolutions").fetchone()[0] == 0


# ---------------------------------------------------------------- devices


@pytest.mark.parametrize("size", SIZES)
async def test_devices_show_scanners_and_follow_changes(
    plant: str, db: sqlite3.Connection, size: tuple[int, int]
) -> None:
    insert_scanner(db, "CUT-1-A", "CUT-1")
    screen = DevicesScreen(plant, now_ms=fixed_now)
    async with Host(screen).run_test(size=size) as pilot:
        await settle(pilot)
        row = cells(screen.table, "CUT-1-A")
        assert row[:2] == ["CUT-1-A", "CUT-1"]
        assert "● connected" in row and "12s ago" in row and "412" in row

        insert_scanner(db, "CUT-1-A", "CUT-1", connected=0, errors=2, last_error="port vanished")
        screen.post_message(FloorChanged(data_version=2))
        await settle(pilot)
        row = cells(screen.table, "CUT-1-A")
        assert "○ lost" in row and "2" in row and "port vanished" in row
        assert ("url" in column_keys(screen.table)) == (size[0] >= 120)


@pytest.mark.parametrize("size", SIZES)
async def test_devices_show_each_scanners_protocol_and_ssi_answers(
    plant: str, db: sqlite3.Connection, size: tuple[int, int]
) -> None:
    insert_scanner(db, "CUT-1-A", "CUT-1")
    insert_scanner(
        db, "RECV-SSI", "RECEIVING", protocol="ssi", revision="PAABLS00-005-R00",
        acks=409, resends=7, error_beeps=3,
    )  # fmt: skip
    screen = DevicesScreen(plant, now_ms=fixed_now)
    async with Host(screen).run_test(size=size) as pilot:
        await settle(pilot)
        ssi, lines = cells(screen.table, "RECV-SSI"), cells(screen.table, "CUT-1-A")
        if size[0] >= 120:
            assert "SSI" in ssi and "lines" in lines
            assert ["409", "7", "3"] == ssi[ssi.index("SSI") + 1 : ssi.index("SSI") + 4]
            assert ("PAABLS00-005-R00" in ssi) == (size[0] >= 160)
            assert lines[lines.index("lines") + 1 : lines.index("lines") + 4] == ["—"] * 3
        else:
            said = ssi[-1].removesuffix("…")
            assert said.startswith("SSI: 3 beeps")
            assert said in "SSI: 3 beeps, 7 resent, 409 acked"
            assert not lines[-1]


async def test_devices_call_a_silent_listener_no_reader(plant: str, db: sqlite3.Connection) -> None:
    """A listener killed with -9 never says "lost": its stale heartbeat must show instead."""
    insert_scanner(db, "CUT-1-A", "CUT-1", updated_ms=NOW_MS - 60_000)
    insert_scanner(db, "STORES-A", "STORES")
    screen = DevicesScreen(plant, now_ms=fixed_now)
    async with Host(screen).run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        assert "◌ no reader" in cells(screen.table, "CUT-1-A")
        assert "● connected" in cells(screen.table, "STORES-A")


# ---------------------------------------------------------------- snapshots


def snapshot_app(screen: FloorScreen) -> Host:
    return Host(screen)


async def settle_without_blink(pilot: Pilot[Any]) -> None:
    for box in pilot.app.screen.query(Input):
        box.cursor_blink = False
    await settle(pilot)


AT_BOTH_SIZES = pytest.mark.parametrize("size", SIZES, ids=["80x24", "160x48"])


@AT_BOTH_SIZES
def test_stock_snapshot(plant: str, snap_compare: Any, size: tuple[int, int]) -> None:
    screen = StockScreen(plant, now_ms=fixed_now)

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle_without_blink(pilot)
        screen.show_code("PWD-7035")
        await settle(pilot)

    assert snap_compare(snapshot_app(screen), terminal_size=size, run_before=run_before)


@AT_BOTH_SIZES
def test_stages_snapshot(plant: str, snap_compare: Any, size: tuple[int, int]) -> None:
    screen = StagesScreen(plant, now_ms=fixed_now)
    assert snap_compare(snapshot_app(screen), terminal_size=size, run_before=settle)


@AT_BOTH_SIZES
def test_inbox_snapshot(
    plant: str, db: sqlite3.Connection, snap_compare: Any, size: tuple[int, int]
) -> None:
    insert_rejected(
        db, "STORES", b"SCR-M8X20", "unknown barcode 'SCR-M8X20': check the label", NOW_MS - 600_000
    )
    insert_rejected(
        db, "ASSY-1", b"\xff\xfe", "not a barcode: invalid UTF-8 bytes", NOW_MS - 60_000
    )
    screen = InboxScreen(plant, now_ms=fixed_now)
    assert snap_compare(snapshot_app(screen), terminal_size=size, run_before=settle)


@AT_BOTH_SIZES
def test_devices_snapshot(
    plant: str, db: sqlite3.Connection, snap_compare: Any, size: tuple[int, int]
) -> None:
    insert_scanner(db, "CUT-1-A", "CUT-1")
    insert_scanner(
        db, "STORES-A", "STORES", url="rfc2217://10.0.4.21:4001", connected=0,
        last_scan_ms=NOW_MS - 3 * HOUR_MS, scans=87, errors=3,
        last_error="device reports readiness to read but returned no data",
    )  # fmt: skip
    insert_scanner(
        db, "RECV-SSI", "RECEIVING", url="/dev/ttyACM1", protocol="ssi",
        revision="PAABLS00-005-R00", acks=409, resends=7, error_beeps=3,
    )  # fmt: skip
    screen = DevicesScreen(plant, now_ms=fixed_now)
    assert snap_compare(snapshot_app(screen), terminal_size=size, run_before=settle)


async def test_a_failed_read_says_the_screen_is_not_up_to_date(plant: str) -> None:
    """A read that fails leaves the last one on screen: the header says so until a read
    succeeds (a kiosk must not show stale scanners as if live)."""
    screen = DevicesScreen(plant, now_ms=fixed_now)
    app = Host(screen)
    notes: list[tuple[str, str]] = []
    async with app.run_test(size=(120, 30)) as pilot:
        app.notify = lambda message, **kw: notes.append((message, kw.get("severity", "")))  # type: ignore[method-assign]
        await settle(pilot)
        assert screen.sub_title is None
        other = connect(plant)
        try:
            with write(other):
                other.execute("ALTER TABLE scanners RENAME TO scanners_away")
            screen.reload()
            await settle(pilot)
            assert screen.sub_title is not None
            assert screen.sub_title.startswith("NOT UP TO DATE since ")
            assert "scanners" in screen.sub_title
            assert [severity for _, severity in notes] == ["error"]
            screen.reload()  # still failing: the notice stays, no second notification
            await settle(pilot)
            assert screen.sub_title.startswith("NOT UP TO DATE")
            assert len(notes) == 1
            with write(other):
                other.execute("ALTER TABLE scanners_away RENAME TO scanners")
        finally:
            other.close()
        screen.reload()
        await settle(pilot)
        assert screen.sub_title is None
