"""What a station says to scan next (`db.sessions.prompt_for`), through the scan
pipeline on the demo plant: one prompt for each mode, worded exactly, with the next
QTY, LOT and REASON and the number being built on the number pad."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from db.demo import create_demo_db
from db.pipeline import process_scan
from db.schema import MODES

# STORES in the demo plant: location A-01, no stage of its own.
PROMPTS = {
    "RECEIVE": "Scan items to receive into A-01, or a location to change it",
    "ISSUE": "Scan the work order to issue to",
    "RETURN": "Scan the work order to return from",
    "MOVE": "Scan the source location",
    "PROGRESS": "Scan the work-order traveler",
    # A scrap needs a reason on the demo plant (scrap_needs_reason is on by default).
    "SCRAP": "Scan a REASON: for the scrap first. Scan items to scrap from A-01, or a work "
    "order to scrap units at this station's stage",
    "COUNT": "Scan QTY: (or NUM: keys) with the counted quantity, then the item (bin A-01)",
    "SHIP": "Scan finished items to ship, or the sales order (SO:number) first",
}


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    connection = create_demo_db(tmp_path / "floor.db")
    yield connection
    connection.close()


def test_every_mode_says_what_to_scan_next(conn: sqlite3.Connection) -> None:
    assert process_scan(conn, "STORES", b"B1001").status == "accepted"
    assert set(PROMPTS) == set(MODES)
    for mode in MODES:
        result = process_scan(conn, "STORES", f"CMD:MODE:{mode}".encode())
        assert (result.status, result.prompt) == ("accepted", PROMPTS[mode])


def test_the_prompt_carries_the_next_qty_and_lot(conn: sqlite3.Connection) -> None:
    for code in ("B1001", "CMD:MODE:MOVE", "QTY:2"):
        result = process_scan(conn, "STORES", code.encode())
    assert result.prompt == "Scan the source location (next QTY 2)"
    result = process_scan(conn, "STORES", b"LOT:L-7")
    assert result.prompt == "Scan the source location (next QTY 2) (next LOT L-7)"


def test_nobody_signed_in_is_asked_for_a_badge(conn: sqlite3.Connection) -> None:
    result = process_scan(conn, "STORES", b"A-01")
    assert (result.status, result.prompt) == ("rejected", "Scan your badge to sign in")


def test_the_prompt_carries_the_number_pad_and_the_reason(conn: sqlite3.Connection) -> None:
    for code in ("B1001", "CMD:MODE:COUNT", "NUM:1", "NUM:2"):
        result = process_scan(conn, "STORES", code.encode())
    assert result.prompt == (
        "Scan the item counted in A-01 (next QTY 12 from the number pad: more NUM: keys, "
        "or NUM:CLR)"
    )
    result = process_scan(conn, "STORES", b"REASON:MISCOUNT")
    assert result.prompt.endswith("or NUM:CLR) (reason MISCOUNT)"), result.prompt
