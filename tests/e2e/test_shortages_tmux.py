"""The Shortages screen in the real `shopfloor` command, in tmux: the cable glands
counted out of the stores show as short on F12, the board's heading counts the orders
held up, and a receipt scanned by another process clears them on screen."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.e2e.terminal import SHOPFLOOR, Terminal

pytestmark = pytest.mark.timeout(120)


def scan(path: Path, station: str, *codes: str) -> None:
    done = subprocess.run(
        [SHOPFLOOR, "scan", "--db", str(path), "--station", station, *codes],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_shortages_screen_follows_the_stores(terminal: Terminal, plant: Path) -> None:
    # A supervisor counts the glands' bin (A-04) empty: nothing else holds them.
    scan(plant, "STORES", "B3001", "CMD:MODE:COUNT", "A-04", "REASON:MISCOUNT", "QTY:0", "CG-M25")
    terminal.start(["--db", str(plant)], width=120, height=40)
    terminal.wait_for(lambda s: "BOARD" in s and "open" in s and "2 short" in s, "2 short")
    terminal.keys("F12")
    screen = terminal.wait_text("By component", "CG-M25", "SHORT", "none on order")
    assert "1 component short" in screen and "2 orders held up" in screen, screen
    scan(plant, "RECEIVING", "B1001", "QTY:500", "CG-M25")
    terminal.wait_for(lambda s: "Nothing short" in s and "CG-M25" not in s, "glands received")
    terminal.keys("C-q")
    assert terminal.wait_exit() == 0
