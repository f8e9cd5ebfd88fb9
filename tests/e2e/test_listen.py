"""`shopfloor listen` as a real process reading real ptys, checked through the record.

The listener runs as a subprocess of the test, reading the slave side of a pty the
test owns; the test types into the master side, as a scanner would. What landed is
read back with `shopfloor scans/stock/status --json` and straight from the database.
Every wait is bounded. The fixtures and helpers are in tests/e2e/conftest.py.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import wait_for
from tests.e2e.conftest import (
    SHOPFLOOR,
    Floor,
    ListenFactory,
    check_passes,
    shopfloor_json,
    sign_in,
    start_and_wait_connected,
    stock_changes,
)
from tests.serial_devices import Pty

pytestmark = pytest.mark.timeout(60)

# ---------------------------------------------------------------- tests


def test_listen_drives_an_issue_flow(
    listen: ListenFactory, floor: Floor, db_path: Path, pty: Pty
) -> None:
    stock_before = shopfloor_json(db_path, "stock")
    status_before = {r["number"]: r for r in shopfloor_json(db_path, "status")}
    assert status_before["WO-24003"]["status"] == "released"
    listener = start_and_wait_connected(
        listen, floor, "--scanner", f"STORES={pty.path}", names=("STORES-1",)
    )
    lines = [b"B1001", b"WO-24003", b"A-04", b"QTY:3", b"FAN-120", b"THERM-1"]
    pty.write(b"".join(line + b"\r\n" for line in lines))
    journal = floor.wait_journal("STORES-1", len(lines))
    assert wait_for(lambda: all(r["status"] for r in floor.journal("STORES-1")), 5)

    scans = shopfloor_json(db_path, "scans")
    assert [(r["source"], r["station"], r["raw"], r["status"]) for r in scans] == [
        ("serial", "STORES", line.decode(), "accepted") for line in lines
    ], scans
    assert [r["id"] for r in scans] == [r["id"] for r in journal]

    # Exactly what was scanned: 3 fans and 1 thermostat from A-04 to assembly WIP.
    assert stock_changes(stock_before, shopfloor_json(db_path, "stock")) == {
        ("FAN-120", "A-04", None): -3,
        ("FAN-120", "WIP-ASSY", None): 3,
        ("THERM-1", "A-04", None): -1,
        ("THERM-1", "WIP-ASSY", None): 1,
    }
    status_after = {r["number"]: r for r in shopfloor_json(db_path, "status")}
    # What the record holds of each order; the forecast's fields project from the clock
    # (and the queue), so they move for orders nobody touched.
    projected = ("projected_finish", "risk", "idle", "holding_stage")

    def recorded(row: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in row.items() if key not in projected}

    changed = {n for n in status_after if recorded(status_after[n]) != recorded(status_before[n])}
    assert changed == {"WO-24003"}
    assert status_after["WO-24003"]["status"] == "in_progress"
    assert status_after["WO-24003"]["stages"] == status_before["WO-24003"]["stages"]
    moves = shopfloor_json(db_path, "movements", "--order", "WO-24003")
    assert [(m["kind"], m["item"], m["qty"], m["operator"], m["station"]) for m in moves] == [
        ("issue", "FAN-120", 3, "B1001", "STORES"),
        ("issue", "THERM-1", 1, "B1001", "STORES"),
    ]
    scanner = floor.scanner("STORES-1")
    assert scanner is not None
    assert (scanner["station"], scanner["url"], scanner["scans"]) == ("STORES", pty.path, 6)

    assert listener.stop() == 0
    assert floor.connected("STORES-1") is False
    assert "stopped" in listener.output()
    check_passes(db_path)


def test_listen_with_a_config_file_of_two_scanners(
    listen: ListenFactory, floor: Floor, db_path: Path, ptys: Callable[[], Pty], tmp_path: Path
) -> None:
    window, dock = ptys(), ptys()
    config = tmp_path / "shopfloor.toml"
    config.write_text(
        "[[scanner]]\n"
        'name = "stores-window"\n'
        f'url = "{window.path}"\n'
        'station = "STORES"\n'
        'terminator = "CR"\n'
        "\n"
        "[[scanner]]\n"
        f'url = "{dock.path}"\n'
        'station = "RECEIVING"\n'
        "dedupe_ms = 400\n",
        encoding="utf-8",
    )
    listener = start_and_wait_connected(
        listen, floor, "--config", str(config), names=("stores-window", "RECEIVING-2")
    )
    # Hinges are issued from their bin, A-02: the window's own A-01 holds none.
    window.write(b"B1002\rWO-24003\rA-02\rHNG-120\r")
    dock.write(b"B1001\nQTY:4\nNUT-M4\n")
    stores = floor.wait_journal("stores-window", 4)
    receiving = floor.wait_journal("RECEIVING-2", 3)
    assert wait_for(lambda: all(r["status"] for r in floor.journal()), 5)
    stores, receiving = floor.journal("stores-window"), floor.journal("RECEIVING-2")
    assert [(r["station"], r["raw"], r["status"]) for r in stores] == [
        ("STORES", b"B1002", "accepted"),
        ("STORES", b"WO-24003", "accepted"),
        ("STORES", b"A-02", "accepted"),
        ("STORES", b"HNG-120", "accepted"),
    ]
    assert [(r["station"], r["raw"], r["status"]) for r in receiving] == [
        ("RECEIVING", b"B1001", "accepted"),
        ("RECEIVING", b"QTY:4", "accepted"),
        ("RECEIVING", b"NUT-M4", "accepted"),
    ]
    received = shopfloor_json(db_path, "stock", "--item", "NUT-M4", "--location", "RCV-DOCK")
    assert [r["qty"] for r in received] == [4]
    moves = shopfloor_json(db_path, "movements", "--item", "HNG-120", "--order", "WO-24003")
    assert [(m["kind"], m["operator"]) for m in moves] == [("issue", "B1002")]
    # The second scanner's window is its own: a double read there is 400 ms wide.
    dock.write(b"NUT-M5\n")
    time.sleep(0.3)
    dock.write(b"NUT-M5\n")
    rows = floor.wait_journal("RECEIVING-2", 5)
    assert wait_for(lambda: floor.journal("RECEIVING-2")[-1]["status"] is not None, 5)
    assert [r["status"] for r in floor.journal("RECEIVING-2")[3:]] == ["accepted", "duplicate"]
    assert len(rows) == 5
    assert listener.stop() == 0
    check_passes(db_path)


def test_double_read_through_the_reader_is_one_duplicate(
    listen: ListenFactory, floor: Floor, db_path: Path, pty: Pty
) -> None:
    sign_in(db_path, "RECEIVING", "B1001")
    start_and_wait_connected(
        listen, floor, "--scanner", f"RECEIVING={pty.path}", names=("RECEIVING-1",)
    )
    pty.write(b"NUT-M4\r\nNUT-M4\r\n")  # the same code twice, as a trigger bounce sends it
    floor.wait_journal("RECEIVING-1", 2)
    time.sleep(0.5)  # past the 250 ms window: the same code again is a new scan
    pty.write(b"NUT-M4\r\n")
    floor.wait_journal("RECEIVING-1", 3)
    assert wait_for(lambda: floor.journal("RECEIVING-1")[-1]["status"] is not None, 5)
    rows = floor.journal("RECEIVING-1")
    assert [(r["raw"], r["status"]) for r in rows] == [
        (b"NUT-M4", "accepted"),
        (b"NUT-M4", "duplicate"),
        (b"NUT-M4", "accepted"),
    ]
    assert "double read" in rows[1]["message"]
    moved = shopfloor_json(db_path, "stock", "--item", "NUT-M4", "--location", "RCV-DOCK")
    assert [r["qty"] for r in moved] == [2]
    assert floor.scalar("SELECT COUNT(*) FROM movements WHERE scan = ?", rows[1]["id"]) == 0


def test_listen_refuses_a_bad_configuration(db_path: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[scanner]]\nstation = "STORES"\n', encoding="utf-8")
    for args, words in [
        ([], "no scanners"),
        (["--scanner", "STORES"], "STATION=URL"),
        (["--config", str(bad)], "url is missing"),
    ]:
        result = subprocess.run(
            [*SHOPFLOOR, "listen", "--db", str(db_path), *args],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert result.returncode == 1, (args, result.stderr)
        assert words in result.stderr, (args, result.stderr)


def test_scanner_on_a_station_that_is_not_set_up_is_journaled_and_rejected(
    listen: ListenFactory, floor: Floor, pty: Pty
) -> None:
    listener = start_and_wait_connected(
        listen, floor, "--scanner", f"PAINT-9={pty.path}", names=("PAINT-9-1",)
    )
    assert "PAINT-9" in listener.output() and "not set up" in listener.output()
    pty.write(b"WO-24003\n")
    floor.wait_journal("PAINT-9-1", 1)
    assert wait_for(lambda: floor.journal("PAINT-9-1")[0]["status"] is not None, 5)
    [row] = floor.journal("PAINT-9-1")
    assert (row["raw"], row["status"]) == (b"WO-24003", "rejected")
    assert "stations.csv" in row["message"]
