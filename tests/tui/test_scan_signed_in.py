"""The station screen says who is signed in, large, and signs the station out when its
idle time passes (issue 12 items 3 and 7).

The real app on a copy of the demo plant; the record's clock (db.connection.clock) is
moved by the test, so "31 minutes later" takes no time. What the screen shows is read
off its widgets and the drawn screen; what the record kept is read with SQL.
"""

from __future__ import annotations

import io
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Static

from db.connection import connect
from tests.conftest import MovingClock, make_app, settle, wait_until
from tui.screens.scan import ScanScreen
from tui.widgets.big_text import big_text

pytestmark = pytest.mark.timeout(60)

MINUTE = 60_000
SCREW = "SCR-M4X10"  # 7880 in A-01, the STORES station's bin
WORK_ORDER = "WO-24003"


@pytest.fixture
def db(demo_db: str) -> Iterator[sqlite3.Connection]:
    conn = connect(demo_db)
    yield conn
    conn.close()


async def scan(pilot: Pilot[Any], *codes: str) -> None:
    for code in codes:
        await pilot.press(*code, "enter")


def words(screen: ScanScreen, widget_id: str) -> str:
    return str(screen.query_one(f"#{widget_id}", Static).render())


def drawn_lines(pilot: Pilot[Any]) -> list[str]:
    """The screen's lines as a terminal shows them."""
    strips = pilot.app.screen._compositor.render_update(full=True)  # as export_screenshot
    console = Console(width=pilot.app.size.width, record=True, file=io.StringIO())
    console.print(strips)
    return console.export_text(styles=False).splitlines()


async def test_the_signed_in_operator_is_shown_in_big_letters_and_nobody_says_scan_your_badge(
    demo_db: str, moments: MovingClock
) -> None:
    app = make_app(demo_db, station="STORES", live=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ScanScreen)
        banner = screen.signed_in
        assert banner.has_class("-nobody")
        assert words(screen, "signed-in-note") == "nobody signed in — scan your badge"

        await scan(pilot, "B1001")
        await wait_until(pilot, lambda: not banner.has_class("-nobody"))
        big = big_text("Ana Ribeiro")
        assert big is not None
        lines = drawn_lines(pilot)
        # Three lines tall, one above the other, as a person across the cell sees them.
        at = next(i for i, line in enumerate(lines) if big[0] in line)
        assert big[1] in lines[at + 1] and big[2] in lines[at + 2]
        assert words(screen, "signed-in-note") == "signed in: Ana Ribeiro · badge B1001"

        # A name the big letters cannot draw is shown as it is, in ordinary letters.
        banner.show("Ana 李", "B1001", None)
        assert words(screen, "signed-in-name") == "Ana 李"


async def test_the_station_signs_out_after_its_idle_time_and_the_next_scan_says_so(
    demo_db: str, db: sqlite3.Connection, moments: MovingClock
) -> None:
    app = make_app(demo_db, station="STORES", live=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ScanScreen)
        await scan(pilot, "B1001", WORK_ORDER)
        await wait_until(pilot, lambda: not screen.signed_in.has_class("-nobody"))
        moments.now += 29 * MINUTE
        await pilot.pause(1.2)  # the screen looked at least once: 29 min is not idle
        assert not screen.signed_in.has_class("-nobody")

        moments.now += 2 * MINUTE
        await wait_until(pilot, lambda: screen.signed_in.has_class("-idle"))
        note = words(screen, "signed-in-note")
        assert note.startswith("signed out (idle): Ana Ribeiro signed out after 30 min idle")
        assert "nobody signed in" in str(screen.query_one("#context-operator", Static).render())
        # Written, not only shown: every other screen and process reads nobody too.
        await wait_until(
            pilot,
            lambda: (
                db.execute(
                    "SELECT operator FROM station_sessions WHERE station = 'STORES'"
                ).fetchone()[0]
                is None
            ),
        )

        moves = db.execute("SELECT COUNT(*) FROM movements").fetchone()[0]
        await scan(pilot, SCREW)
        await wait_until(pilot, lambda: screen.has_class("-rejected"))
        said = str(screen.result_line.render())
        assert said.startswith("✗ Ana Ribeiro signed out after 30 min idle; scan your badge"), said
        assert db.execute("SELECT COUNT(*) FROM movements").fetchone()[0] == moves
        await settle(pilot)
        # Said once: the screen now simply waits for a badge.
        assert words(screen, "signed-in-note") == "nobody signed in — scan your badge"
