"""The app as a person meets it: the board, an order and its supervisor actions, the kiosk
lock, the command palette, and live refresh from another process.

Each test drives `create_app` with Pilot over a fresh copy of the demo plant (built as
of a fixed moment, see conftest), with the same fixed clock, and checks what is on
screen against the record read directly with SQL.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.widgets import Input

from db.board import LiveBoard, board_rows
from db.connection import connect
from db.forecast import forecast
from db.orders import order_detail
from db.quantity import text as qty_text
from db.stages import stage_sequence
from tests.conftest import BUILT_MS, TODAY, make_app, open_order, settle, wait_until
from tui.app import ShopfloorApp
from tui.dialogs import SupervisorDialog
from tui.screens.board import BoardScreen
from tui.screens.catalog import SCREENS
from tui.screens.order import OrderScreen
from tui.screens.scan import ScanScreen
from tui.screens.stock import StockScreen
from tui.widgets.board_table import AT_RISK, LATE, BoardTable, fit_columns

pytestmark = pytest.mark.timeout(60)

OPEN_SQL = "SELECT number FROM work_orders WHERE status IN ('released', 'in_progress', 'on_hold')"
PYTHON = sys.executable
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def db(demo_db: str) -> Iterator[sqlite3.Connection]:
    conn = connect(demo_db)
    yield conn
    conn.close()


def board_of(app: ShopfloorApp) -> BoardTable:
    return app.screen.query_one(BoardTable)


def cell_text(table: BoardTable, number: str, column: str) -> str:
    """The cell's words, checked against the line the board draws for the order."""
    words = table.get_cell(number, column).plain
    assert words in table.line_text(number)
    return words


def notes_of(app: ShopfloorApp, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Record every notification as (message, severity)."""
    seen: list[tuple[str, str]] = []
    original = app.notify

    def notify(message: str, **options: Any) -> None:
        seen.append((message, str(options.get("severity", "information"))))
        original(message, **options)

    monkeypatch.setattr(app, "notify", notify)
    return seen


async def type_text(pilot: Pilot[Any], text: str) -> None:
    await pilot.press(*[("space" if ch == " " else ch) for ch in text])


# ---------------------------------------------------------------- board


async def test_board_shows_every_open_order(demo_db: str, db: sqlite3.Connection) -> None:
    app = make_app(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, BoardScreen)
        table = board_of(app)
        expected = {row[0] for row in db.execute(OPEN_SQL)}
        assert set(table.shown) == expected
        # Due order by default, as the database sorts it.
        due = [r.due for r in (table.orders[n] for n in table.shown)]
        assert due == sorted(due)
        summary = str(app.screen.query_one("#board-summary").render())
        assert f"{len(expected)} open" in summary


async def test_board_marks_late_and_at_risk_in_words(demo_db: str, db: sqlite3.Connection) -> None:
    """Late by the due date; at risk and idle by the forecast (tests/tui/test_board_forecast.py
    has the orders the coordinator found unmarked)."""
    rows = board_rows(db)
    planned = forecast(db, now_ms=BUILT_MS).orders
    late = [r.number for r in rows if r.late(TODAY)]
    at_risk = [r.number for r in rows if planned[r.number].risk == "at_risk"]
    assert late and at_risk, "the frozen demo plant has late and at-risk orders"
    app = make_app(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = board_of(app)
        for number in late:
            marks = cell_text(table, number, "marks")
            assert marks in (LATE, "⚠LATE ⏸HOLD", "⚠LATE ◌IDLE"), marks
        for number in at_risk:
            marks = cell_text(table, number, "marks")
            assert marks in (AT_RISK, "◷RISK ⏸HOLD", "◷RISK ◌IDLE"), marks
        calm = [
            r.number for r in rows
            if r.number not in late + at_risk and r.status != "on_hold"
            and not planned[r.number].idle
        ]  # fmt: skip
        assert calm and all(cell_text(table, n, "marks") == "" for n in calm)


async def test_board_filter_by_typing(demo_db: str) -> None:
    app = make_app(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = board_of(app)
        everything = set(table.shown)
        await type_text(pilot, "jbox")
        assert table.shown and all(table.orders[n].product == "JBOX-150" for n in table.shown)
        await pilot.press("escape")
        assert set(table.shown) == everything
        # Two words must both match: product and current stage.
        await type_text(pilot, "rack-19 cut")
        assert table.shown
        for number in table.shown:
            row = table.orders[number]
            assert row.product == "RACK-19" and row.current_stage == "CUT"


async def test_back_from_an_order_typing_filters_and_f1_shows_the_list(demo_db: str) -> None:
    """Found: back from an order, typing an order number went nowhere, Enter opened the
    highlighted row and the wrong order was put on hold; F1 brought back the last order."""
    app = make_app(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = board_of(app)
        first, wanted = table.shown[0], table.shown[-1]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, OrderScreen) and app.screen.number == first
        await pilot.press("escape")
        await settle(pilot)
        await type_text(pilot, wanted)
        assert table.shown == [wanted]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, OrderScreen) and app.screen.number == wanted
        # Away to Stock and back with F1: the board's list, not the order left open.
        await pilot.press("f3")
        await settle(pilot)
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, BoardScreen)
        # F1 on an order over the board is the list too.
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, OrderScreen)
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, BoardScreen)


async def test_board_sorts_by_priority_and_stage(demo_db: str, db: sqlite3.Connection) -> None:
    app = make_app(demo_db)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        table = board_of(app)
        await pilot.press("f8")
        priorities = [table.orders[n].priority for n in table.shown]
        assert priorities == sorted(priorities)
        await pilot.press("f9")
        route = [code for code, _ in stage_sequence(db)]
        positions = []
        for number in table.shown:
            row = table.orders[number]
            positions.append(route.index(row.current_stage) if row.current_stage else len(route))
        assert positions == sorted(positions)
        await pilot.press("f7")
        due = [table.orders[n].due for n in table.shown]
        assert due == sorted(due)


async def test_enter_opens_the_highlighted_order(demo_db: str, db: sqlite3.Connection) -> None:
    app = make_app(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = board_of(app)
        await pilot.press("down", "down")
        number = table.highlighted
        assert number == table.shown[2]
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, OrderScreen) and screen.number == number
        detail = screen.detail
        assert detail is not None
        stages = db.execute(
            "SELECT stage, done_milli FROM work_order_stages WHERE work_order = ? ORDER BY seq",
            (number,),
        ).fetchall()
        assert [(code, done) for code, done, _ in detail.stages] == [tuple(r) for r in stages]
        assert screen.stages_table.row_count == len(stages)
        bom = db.execute(
            "SELECT COUNT(*) FROM bill_of_materials b JOIN work_orders w ON w.product = b.product "
            "WHERE w.number = ?",
            (number,),
        ).fetchone()[0]
        assert screen.materials_table.row_count == bom
        moved = db.execute(
            "SELECT COUNT(*) FROM movements WHERE work_order = ?", (number,)
        ).fetchone()[0]
        assert screen.movements_table.row_count == moved
        await pilot.press("escape")
        assert isinstance(app.screen, BoardScreen)


# ---------------------------------------------------------------- supervisor actions


async def test_a_click_highlights_and_a_second_opens(demo_db: str) -> None:
    app = make_app(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = board_of(app)
        # Line 0 is the header; line 3 is the third order.
        await pilot.click(BoardTable, offset=(3, 3))
        assert table.highlighted == table.shown[2]
        assert isinstance(app.screen, BoardScreen)
        await pilot.click(BoardTable, offset=(3, 3))
        await settle(pilot)
        assert isinstance(app.screen, OrderScreen) and app.screen.number == table.shown[2]


async def test_the_open_order_shows_a_movement_posted_elsewhere(
    demo_db: str, db: sqlite3.Connection
) -> None:
    """An issue to the order from another process (after one to another order) lands on
    top of its movements, alone, and in its material line."""
    number = in_progress_order(db)
    other = next(n for (n,) in db.execute(OPEN_SQL) if n != number)
    item, location = db.execute(
        "SELECT s.item, s.location FROM stock s JOIN items i ON i.sku = s.item "
        "JOIN bill_of_materials b ON b.component = s.item "
        "JOIN work_orders w ON w.product = b.product AND w.number = ? "
        "WHERE s.qty_milli >= 2000 AND s.lot = '' AND i.lot_tracked = 0 "
        "AND s.location IN (SELECT code FROM locations WHERE kind = 'storeroom') LIMIT 1",
        (number,),
    ).fetchone()
    app = make_app(demo_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = await open_order(pilot, number)
        movements = screen.movements_table
        shown = movements.keys
        writer = run_elsewhere(
            demo_db,
            "from db import ledger\n"
            f"ledger.issue(conn, {other!r}, {item!r}, 1000, {location!r})\n"
            f"ledger.issue(conn, {number!r}, {item!r}, 1000, {location!r})\n",
        )
        assert writer.wait(timeout=20) == 0
        await wait_until(pilot, lambda: movements.keys != shown, seconds=3)
        newest = db.execute(
            "SELECT id FROM movements WHERE work_order = ? ORDER BY id DESC LIMIT 1", (number,)
        ).fetchone()[0]
        assert movements.keys == [str(newest), *shown][: len(movements.keys)]
        line = movements.line_text(str(newest))
        assert item in line and "issue" in line and location in line
        issued = screen.materials_table.cells_of(item)
        detail = order_detail(db, number)
        assert detail is not None
        [material] = [m for m in detail.materials if m.item == item]
        assert issued[2] == qty_text(material.issued_milli)


async def fill_dialog(
    pilot: Pilot[Any], *, badge: str, reason: str = "", due: str | None = None
) -> None:
    """Fill the supervisor dialog as a wedge scanner would (whole values), badge last."""
    dialog = pilot.app.screen
    assert isinstance(dialog, SupervisorDialog)
    if due is not None:
        dialog.query_one("#dialog-due", Input).value = due
    dialog.reason_input.value = reason
    dialog.badge_input.value = badge
    dialog.badge_input.focus()
    await pilot.press("enter")
    await settle(pilot)


def in_progress_order(db: sqlite3.Connection) -> str:
    return str(
        db.execute(
            "SELECT number FROM work_orders WHERE status = 'in_progress' ORDER BY number LIMIT 1"
        ).fetchone()[0]
    )


NEW_DUE = "2026-12-24"


async def test_due_date_change_is_recorded_with_reason(
    demo_db: str, db: sqlite3.Connection
) -> None:
    number = in_progress_order(db)
    app = make_app(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        order = await open_order(pilot, number)
        await pilot.press("d")
        await fill_dialog(pilot, due=NEW_DUE, reason="customer moved delivery", badge="B4001")
        await wait_until(
            pilot, lambda: order.detail is not None and order.detail.due == "2026-12-24"
        )
        change = db.execute(
            "SELECT new_due, by_operator, reason FROM due_date_changes WHERE work_order = ?",
            (number,),
        ).fetchone()
        assert tuple(change) == (NEW_DUE, "B4001", "customer moved delivery")
        assert order.history_table.row_count >= 1
        await pilot.press("escape")
        await settle(pilot)
        assert board_of(app).orders[number].due == NEW_DUE


async def test_due_date_dialog_refuses_a_bad_date(demo_db: str, db: sqlite3.Connection) -> None:
    number = in_progress_order(db)
    app = make_app(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_order(pilot, number)
        await pilot.press("d")
        await fill_dialog(pilot, due="next friday", reason="why not", badge="B3001")
        assert isinstance(app.screen, SupervisorDialog), "a bad date keeps the dialog open"
        assert "YYYY-MM-DD" in str(app.screen.query_one(".dialog-error").render())
        assert db.execute("SELECT COUNT(*) FROM due_date_changes").fetchone()[0] == 0


HELD = "on_hold"


async def test_hold_and_release(demo_db: str, db: sqlite3.Connection) -> None:
    number = in_progress_order(db)
    app = make_app(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        order = await open_order(pilot, number)
        await pilot.press("h")
        await fill_dialog(pilot, reason="waiting for drawing", badge="B3001")

        def status() -> str:
            return str(
                db.execute("SELECT status FROM work_orders WHERE number = ?", (number,)).fetchone()[
                    0
                ]
            )

        await wait_until(pilot, lambda: status() == HELD)
        await wait_until(
            pilot, lambda: order.detail is not None and order.detail.status == "on_hold"
        )
        await pilot.press("h")
        await fill_dialog(pilot, reason="", badge="B3002")
        await wait_until(pilot, lambda: status() == "in_progress")
        who = db.execute(
            "SELECT by_operator, reason FROM status_changes WHERE work_order = ? ORDER BY id DESC "
            "LIMIT 2",
            (number,),
        ).fetchall()
        assert [tuple(r) for r in who] == [("B3002", "released"), ("B3001", "waiting for drawing")]


async def test_cancel_takes_the_order_off_the_board(demo_db: str, db: sqlite3.Connection) -> None:
    number = in_progress_order(db)
    app = make_app(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert number in board_of(app).orders
        await open_order(pilot, number)
        await pilot.press("x")
        await fill_dialog(pilot, reason="customer withdrew", badge="B3001")
        await wait_until(
            pilot,
            lambda: (
                db.execute("SELECT status FROM work_orders WHERE number = ?", (number,)).fetchone()[
                    0
                ]
                == "cancelled"
            ),
        )
        await pilot.press("escape")
        await settle(pilot)
        assert number not in board_of(app).orders
        assert number not in board_of(app).shown


@pytest.mark.parametrize(
    ("key", "badge", "words"),
    [
        ("h", "B2001", "Kemal Aydin is operator"),  # an operator may not hold
        ("x", "B4001", "Julia Moreau is coordinator"),  # a coordinator may not cancel
        ("h", "B9999", "not in the operator list"),
    ],
)
async def test_a_badge_without_the_role_is_refused_and_what_was_typed_stays(
    demo_db: str, db: sqlite3.Connection, key: str, badge: str, words: str
) -> None:
    """Found: a wrong badge closed the due-date dialog and lost what was typed."""
    number = in_progress_order(db)
    changes = "SELECT COUNT(*) FROM status_changes WHERE work_order = ?"
    before = db.execute(changes, (number,)).fetchone()[0]
    app = make_app(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_order(pilot, number)
        await pilot.press(key)
        await fill_dialog(pilot, reason="trying", badge=badge)
        dialog = app.screen
        assert isinstance(dialog, SupervisorDialog), "a refusal keeps the dialog open"
        assert words in str(dialog.error.render())
        assert dialog.reason_input.value == "trying" and dialog.badge_input.value == ""
        assert dialog.badge_input.has_focus, "ready for the next badge to be scanned"
        status = db.execute("SELECT status FROM work_orders WHERE number = ?", (number,))
        assert status.fetchone()[0] == "in_progress"
        assert db.execute(changes, (number,)).fetchone()[0] == before
        # The right badge, scanned next, does it with the reason kept.
        await type_text(pilot, "B3001")
        await pilot.press("enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, SupervisorDialog))
        reason = db.execute(
            "SELECT reason FROM status_changes WHERE work_order = ? ORDER BY rowid DESC",
            (number,),
        ).fetchone()[0]
        assert reason == "trying"


A_MONTH_AGO = (TODAY - timedelta(days=30)).isoformat()


async def test_a_due_date_in_the_past_asks_again(demo_db: str, db: sqlite3.Connection) -> None:
    """Found: a due date a month in the past was accepted silently."""
    number = in_progress_order(db)
    app = make_app(demo_db)  # today is TODAY
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        order = await open_order(pilot, number)
        await pilot.press("d")
        await fill_dialog(pilot, due=A_MONTH_AGO, reason="typo?", badge="B4001")
        dialog = app.screen
        assert isinstance(dialog, SupervisorDialog)
        assert "in the past" in str(dialog.error.render())
        assert db.execute("SELECT COUNT(*) FROM due_date_changes").fetchone()[0] == 0
        await pilot.press("enter")  # yes, that date
        await wait_until(
            pilot, lambda: order.detail is not None and order.detail.due == A_MONTH_AGO
        )
        assert db.execute("SELECT COUNT(*) FROM due_date_changes").fetchone()[0] == 1


# ---------------------------------------------------------------- kiosk


async def test_kiosk_cannot_be_quit_without_a_supervisor(demo_db: str) -> None:
    app = make_app(demo_db, station="CUT-1", kiosk=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ScanScreen)
        for key in ("ctrl+q", "ctrl+c"):
            await pilot.press(key)
            await pilot.pause()
            assert app.is_running
            if isinstance(app.screen, SupervisorDialog):
                await pilot.press("escape")
        # q goes to the scan input, not to quitting.
        await pilot.press("q")
        assert app.is_running and isinstance(app.screen, ScanScreen)
        # The palette (which offers Quit) stays shut.
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert not isinstance(app.screen, CommandPalette)
        # An operator's badge does not open the kiosk.
        await pilot.press("ctrl+q")
        assert isinstance(app.screen, SupervisorDialog)
        await type_text(pilot, "B2001")
        await pilot.press("enter")
        dialog = app.screen
        await wait_until(pilot, lambda: "operator" in str(dialog.error.render()))
        assert app.is_running and app.screen is dialog
        # A supervisor's does, scanned into the same dialog.
        await type_text(pilot, "B3001")
        await pilot.press("enter")
        await wait_until(pilot, lambda: not app.is_running)


async def test_kiosk_leaves_the_station_only_with_a_supervisor_badge(demo_db: str) -> None:
    app = make_app(demo_db, station="CUT-1", kiosk=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        assert isinstance(app.screen, SupervisorDialog)
        await pilot.press("escape")
        assert isinstance(app.screen, ScanScreen)
        await pilot.press("f1")
        await type_text(pilot, "B3002")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, BoardScreen))
        # Unlocked, other screens open freely, but quitting still asks.
        await pilot.press("f4")
        await pilot.press("ctrl+q")
        assert isinstance(app.screen, SupervisorDialog)
        await pilot.press("escape")
        assert app.is_running
        # Back at the station, the kiosk locks again.
        await pilot.press("f2")
        assert isinstance(app.screen, ScanScreen)
        await pilot.press("f3")
        assert isinstance(app.screen, SupervisorDialog)


# ---------------------------------------------------------------- command palette


async def test_palette_jumps_to_an_order_and_to_stock(demo_db: str) -> None:
    app = make_app(demo_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await type_text(pilot, "WO-24008")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, OrderScreen))
        assert isinstance(app.screen, OrderScreen) and app.screen.number == "WO-24008"
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await type_text(pilot, "A-01")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, StockScreen))
        await settle(pilot)
        stock = app.screen
        assert isinstance(stock, StockScreen)
        assert stock.choice == ("location", "A-01")


async def test_every_screen_in_the_list_has_its_key_and_its_palette_name(demo_db: str) -> None:
    """One list of screens (tui.screens.catalog): its F-key shows each, so does its name
    typed in the palette."""
    app = make_app(demo_db, live=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        for entry in reversed(SCREENS):
            await pilot.press(entry.key)
            await wait_until(pilot, lambda e=entry: app.current_mode == e.mode)  # type: ignore[misc]
            assert type(app.screen).__name__ == entry.class_name
        for entry in SCREENS[1:]:
            await pilot.press("f1")
            await wait_until(pilot, lambda: app.current_mode == "board")
            await pilot.press("ctrl+p")
            await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette))
            await type_text(pilot, entry.title)
            await pilot.pause(0.3)
            await pilot.press("enter")
            await wait_until(pilot, lambda e=entry: app.current_mode == e.mode)  # type: ignore[misc]


# ---------------------------------------------------------------- layout


def test_columns_fit_the_terminal() -> None:
    for width in (80, 100, 120, 160, 200):
        used = sum(w + 2 for _, w in fit_columns(width))
        assert used <= width - 2
    narrow = [c.key for c, _ in fit_columns(80)]
    assert {"order", "due", "stage", "progress", "material", "marks"} <= set(narrow)
    wide = [c.key for c, _ in fit_columns(200)]
    assert {"description", "qty", "status", "strip", "stages"} <= set(wide)


# ---------------------------------------------------------------- live refresh


def run_elsewhere(db_path: str, code: str) -> subprocess.Popen[bytes]:
    """Another process posting to the same database through db.ledger."""
    return subprocess.Popen(
        [PYTHON, "-c", f"from db.connection import connect\nconn = connect({db_path!r})\n{code}"],
        cwd=ROOT,
    )


async def test_another_process_commit_shows_on_the_board(
    demo_db: str, db: sqlite3.Connection
) -> None:
    number = in_progress_order(db)
    stage, seq = db.execute(
        "SELECT stage, seq FROM work_order_stages WHERE work_order = ? ORDER BY seq LIMIT 1",
        (number,),
    ).fetchone()
    app = make_app(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = board_of(app)
        assert table.orders[number].status == "in_progress"
        held = sum(row.status == "on_hold" for row in table.orders.values())
        writer = run_elsewhere(
            demo_db,
            "from db import supervision\n"
            f"supervision.set_hold(conn, {number!r}, True, by='B3001', reason='from elsewhere')\n",
        )
        assert writer.wait(timeout=20) == 0
        # How fast is measured in bench/ (commit → screen); here: it arrives at all.
        await wait_until(pilot, lambda: table.orders[number].status == "on_hold", seconds=3)
        assert "HOLD" in cell_text(table, number, "marks")
        summary = str(app.screen.query_one("#board-summary").render())
        assert f"⏸ {held + 1} on hold" in summary


def painted(table: BoardTable) -> list[str]:
    """The board's lines as its widget draws them for the terminal, top to bottom."""
    return [
        "".join(segment.text for segment in table.render_line(y)).rstrip()
        for y in range(table.size.height)
    ]


async def test_the_board_redraws_what_another_process_changed(
    demo_db: str, db: sqlite3.Connection
) -> None:
    """A completion elsewhere redraws the order's line in place; a due date moved
    elsewhere moves the order down the board, and the cursor stays with it."""
    app = make_app(demo_db)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        table = board_of(app)
        first, second = table.shown[:2]
        row = table.orders[second]
        stage = row.current_stage
        assert stage is not None
        before = cell_text(table, second, "progress")
        writer = run_elsewhere(
            demo_db,
            "from db import progress\n"
            f"progress.report_progress(conn, {second!r}, {stage!r}, 1000)\n",
        )
        assert writer.wait(timeout=20) == 0
        await wait_until(pilot, lambda: table.orders[second] is not row, seconds=3)
        after = cell_text(table, second, "progress")
        assert after != before
        line = next(text for text in painted(table) if second in text)
        assert after in line and before not in line
        assert table.shown[:2] == [first, second], "a completion does not move the order"

        # The first order's due date moves past every other: it goes to the bottom.
        assert table.highlighted == first
        writer = run_elsewhere(
            demo_db,
            "from db import supervision\n"
            f"supervision.change_due_date(conn, {first!r}, '2027-12-31', by='B3001', "
            "reason='customer asked')\n",
        )
        assert writer.wait(timeout=20) == 0
        await wait_until(pilot, lambda: table.shown[-1] == first, seconds=3)
        await settle(pilot)
        assert table.highlighted == first
        # The view followed the cursor to the bottom: the last lines, in board order.
        lines = painted(table)
        assert first in lines[-1] and "2027-12-31" in lines[-1]
        numbers = [text.split()[0] for text in lines[1:]]
        assert numbers == table.shown[-len(numbers) :]


# 1,000 scans at the stores window: issues to many orders, ten scans a commit.
BURST = """
from db.pipeline import ScanInput, process_batch
orders = [r[0] for r in conn.execute(
    "SELECT number FROM work_orders WHERE status IN ('released', 'in_progress')")]
codes = ['B1002', 'CMD:MODE:ISSUE']
for n in range(499):
    codes += [orders[n % len(orders)], 'NUT-M6'] if n % 2 else ['QTY:2', 'SCR-M6X16']
for start in range(0, len(codes), 10):
    process_batch(conn, [ScanInput('STORES', c.encode()) for c in codes[start:start + 10]])
"""


async def test_a_burst_of_scans_does_not_freeze_the_board(
    demo_db: str, db: sqlite3.Connection
) -> None:
    """1,000 scans committed by another process while the board is open: the UI keeps
    answering, and when the burst ends the board equals a fresh read."""
    app = make_app(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        gaps: list[float] = []
        last = [time.monotonic()]

        def beat() -> None:
            now = time.monotonic()
            gaps.append(now - last[0])
            last[0] = now

        app.set_interval(0.02, beat)
        writer = run_elsewhere(demo_db, BURST)
        while writer.poll() is None:
            await pilot.pause(0.05)
        assert writer.returncode == 0
        assert db.execute("SELECT COUNT(*) FROM scan_journal").fetchone()[0] >= 1000
        await pilot.pause(0.3)
        await settle(pilot)
        assert max(gaps) < 1.0, f"the UI stalled for {max(gaps):.2f} s"
        table = board_of(app)
        fresh = {row.number: row for row in board_rows(db)}
        assert table.orders == fresh


def test_board_rows_agree_with_the_order_detail(db: sqlite3.Connection) -> None:
    """The board's one-row-per-order summary says what the order screen's lines add up to."""
    rows = board_rows(db)
    assert {r.number for r in rows} == {r[0] for r in db.execute(OPEN_SQL)}
    assert any(r.short for r in rows) and any(not r.short for r in rows)
    for row in rows:
        detail = order_detail(db, row.number)
        assert detail is not None
        assert row.stages == detail.stages  # route order, as the order screen lists it
        assert row.material_required_milli == sum(m.required_milli for m in detail.materials)
        assert row.material_ready_milli == sum(
            min(m.issued_milli, m.required_milli) for m in detail.materials
        )
        done = {code: d for code, d, _ in detail.stages}
        qty_per = dict(
            db.execute(
                "SELECT component, qty_per_milli FROM bill_of_materials WHERE product = ?",
                (row.product,),
            ).fetchall()
        )
        short = any(
            m.issued_milli * 1000 + 1000 < qty_per[m.item] * done.get(m.stage or "", 0)
            for m in detail.materials
        )
        assert row.short == short, row.number
    some = [rows[0].number, rows[-1].number, "WO-NOPE"]
    assert [r.number for r in board_rows(db, some)] == [rows[0].number, rows[-1].number]
    assert board_rows(db, []) == []


def test_live_board_rereads_only_touched_orders(demo_db: str, db: sqlite3.Connection) -> None:
    live = LiveBoard()
    first = live.refresh(db)
    assert first.full and len(first.rows) == len(db.execute(OPEN_SQL).fetchall())
    assert live.refresh(db).empty
    number = in_progress_order(db)
    from db import supervision

    supervision.set_hold(db, number, True, by="B3001", reason="test")
    delta = live.refresh(db)
    assert not delta.full and [r.number for r in delta.rows] == [number]
    supervision.cancel(db, number, by="B3001", reason="test")
    delta = live.refresh(db)
    assert delta.rows == [] and delta.removed == [number]


# ---------------------------------------------------------------- snapshots


def board_snapshot_app(demo_db: str) -> ShopfloorApp:
    return make_app(demo_db, live=False)


async def _settled(pilot: Pilot[Any]) -> None:
    await settle(pilot)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_board_snapshot(demo_db: str, snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(board_snapshot_app(demo_db), terminal_size=size, run_before=_settled)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_order_snapshot(demo_db: str, snap_compare: Any, size: tuple[int, int]) -> None:
    async def open_one(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        app = pilot.app
        assert isinstance(app, ShopfloorApp)
        await app.open_order("WO-24002")
        await settle(pilot)

    assert snap_compare(board_snapshot_app(demo_db), terminal_size=size, run_before=open_one)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
async def test_every_key_is_on_screen(demo_db: str, size: tuple[int, int]) -> None:
    """Found: "f6 Devic▏" at 80x24, the screen's own keys pushing the F-keys out; and
    "f5 In▏" on the board at 120x40, the first width with the wide layout."""
    from textual.widgets._footer import FooterKey

    width = size[0]
    app = make_app(demo_db)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)

        def cut_keys() -> list[str]:
            keys = list(app.screen.query(FooterKey))
            assert keys, f"{app.screen} shows no keys"
            return [
                f"{key.key_display} {key.description}"
                for key in keys
                if key.region.right > width or key.region.width < len(key.description) + 1
            ]

        for entry in SCREENS:
            await pilot.press(entry.key)
            await settle(pilot)
            assert cut_keys() == [], entry.mode
            assert any(key.description == "Devices" for key in app.screen.query(FooterKey)), (
                entry.mode
            )
        await pilot.press("f1")
        await settle(pilot)
        await pilot.press("enter")  # an order, with four keys of its own
        await settle(pilot)
        assert isinstance(app.screen, OrderScreen)
        assert cut_keys() == []


async def test_an_unlocked_kiosk_locks_again_when_left_idle(
    demo_db: str, db: sqlite3.Connection
) -> None:
    """Found: an unlocked kiosk stayed unlocked until someone pressed F2."""
    from db.roles import KIOSK_RELOCK_MIN, set_setting

    set_setting(db, KIOSK_RELOCK_MIN, "0.04")  # 2.4 s, for the test
    app = make_app(demo_db, station="CUT-1", kiosk=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        await type_text(pilot, "B3002")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, BoardScreen))
        # Someone at work keeps it open: a key now and then.
        for _ in range(3):
            await pilot.pause(1.0)
            await pilot.press("down")
        assert isinstance(app.screen, BoardScreen) and app.kiosk_unlocked
        # Walked away: it locks itself back at the station.
        await wait_until(pilot, lambda: isinstance(app.screen, ScanScreen), seconds=6)
        assert not app.kiosk_unlocked
        await pilot.press("f1")
        assert isinstance(app.screen, SupervisorDialog), "the board needs a badge again"
