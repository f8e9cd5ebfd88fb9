"""The real `shopfloor` command in a real terminal (tmux), driven as a person drives it.

Each test makes a demo plant with `shopfloor init --demo`, starts `shopfloor` in a
detached tmux session of its own (a private server on a socket in a private temporary
folder, `tmux -S`, started with no config file, killed and its socket removed
afterwards, so a user's tmux is never touched and nothing is left behind), types into it
with `send-keys` as a keyboard-wedge scanner does, and reads the screen back with
`capture-pane`. What the screen says is checked against the database with SQL.

Every wait is bounded; a failure shows the last screen captured.
"""

from __future__ import annotations

import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from tests.e2e.terminal import SHOPFLOOR, WAIT_SECONDS, Terminal

pytestmark = pytest.mark.timeout(60)


def issue_target(path: Path) -> tuple[str, str, str]:
    """(work order, item sku, item barcode): an order in progress and a component on its
    bill of materials, not lot tracked, with stock in the stores window's bin."""
    conn = sqlite3.connect(path)
    try:
        row = conn.execute(
            "SELECT w.number, i.sku, i.barcode FROM work_orders w "
            "JOIN bill_of_materials b ON b.product = w.product "
            "JOIN items i ON i.sku = b.component "
            "JOIN stations st ON st.code = 'STORES' "
            "JOIN stock s ON s.item = i.sku AND s.location = st.location AND s.lot = '' "
            "WHERE w.status = 'in_progress' AND i.lot_tracked = 0 AND s.qty_milli >= 10000 "
            "ORDER BY w.number, i.sku LIMIT 1"
        ).fetchone()
    finally:
        conn.close()
    assert row is not None, "the demo plant has no in-progress order to issue to from STORES"
    return str(row[0]), str(row[1]), str(row[2])


def issues(path: Path, order: str, item: str) -> list[tuple[int, str, str, str]]:
    """(quantity in thousandths, operator, station, scanned raw) of each issue, oldest first."""
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            "SELECT m.qty_milli, m.operator, m.station, j.raw FROM movements m "
            "JOIN scan_journal j ON j.id = m.scan "
            "WHERE m.kind = 'issue' AND m.work_order = ? AND m.item = ? AND m.scan IS NOT NULL "
            "ORDER BY m.id",
            (order, item),
        ).fetchall()
    finally:
        conn.close()
    return [(int(q), str(op), str(st), bytes(raw).decode()) for q, op, st, raw in rows]


def test_stores_window_issues_by_wedge_scans_and_shows_other_processes(
    terminal: Terminal, plant: Path
) -> None:
    order, sku, barcode = issue_target(plant)
    terminal.start(["--db", str(plant), "--station", "STORES"])
    terminal.wait_text("SCAN · STORES", "Scan your badge to sign in")

    # Badge, traveler, quantity, item: one burst of keys, as the scanner types them. Each
    # Enter must end its own scan even when the next code's keys arrive in the same read.
    terminal.scan("B1002", order, "QTY:2", barcode)
    screen = terminal.wait_text(f"✓ issued 2 {sku} from A-01 to {order}")
    assert "Tom Walsh (B1002)" in screen, screen
    assert order in screen, screen
    assert issues(plant, order, sku) == [(2000, "B1002", "STORES", barcode)]

    # A scan that cannot act: a cross, and the reason in words.
    terminal.scan("NOPE")
    screen = terminal.wait_text("✗ unknown barcode 'NOPE'")
    assert "check the label" in screen, screen
    assert len(issues(plant, order, sku)) == 1

    # Another process scans at the same station: the session (operator, order) is the
    # station's, in the database, and the screen shows the commit without a key pressed.
    other = subprocess.run(
        [SHOPFLOOR, "scan", "--db", str(plant), "--station", "STORES", "QTY:3", barcode],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert other.returncode == 0, other.stdout + other.stderr
    # Live means within a fraction of a second; 5 s leaves room for a busy test machine.
    terminal.wait_text(f"✓ issued 3 {sku} from A-01 to {order}", seconds=5)
    assert [q for q, *_ in issues(plant, order, sku)] == [2000, 3000]
    assert terminal.exit_status() is None


def test_kiosk_stays_up_until_a_supervisor_badge(terminal: Terminal, plant: Path) -> None:
    terminal.start(["--db", str(plant), "--kiosk", "--station", "CUT-1"])
    terminal.wait_text("SCAN · CUT-1", "Scan your badge to sign in")
    # The footer offers no palette on a kiosk.
    assert "palette" not in terminal.screen(), terminal.last_screen

    # q is only a letter in the scan input; ctrl+q asks for a supervisor.
    terminal.keys("q")
    terminal.wait_for(lambda s: any(line.startswith("▊  q ") for line in s.splitlines()), "q")
    terminal.keys("C-q")
    terminal.wait_text("Kiosk: supervisor badge", "To close this kiosk")
    terminal.keys("Escape")
    terminal.wait_for(lambda s: "Kiosk: supervisor badge" not in s, "the badge dialog closed")
    assert "SCAN · CUT-1" in terminal.last_screen
    assert terminal.exit_status() is None

    # An operator's badge does not let the kiosk go.
    terminal.keys("C-q")
    terminal.wait_text("Kiosk: supervisor badge")
    terminal.scan("B2001")
    terminal.wait_text("needs a supervisor")
    time.sleep(0.3)
    assert terminal.exit_status() is None
    assert "SCAN · CUT-1" in terminal.screen(), terminal.last_screen

    # A supervisor's does: the process ends, cleanly.
    terminal.keys("C-q")
    terminal.wait_text("Kiosk: supervisor badge")
    terminal.scan("B3001")
    assert terminal.wait_exit() == 0


def rows_of(screen: str) -> int:
    """Work-order lines on the captured screen."""
    return sum(line.lstrip().startswith("WO-") for line in screen.splitlines())


def test_board_at_80x24(terminal: Terminal, plant: Path) -> None:
    terminal.start(["--db", str(plant)], width=80, height=24)
    # A capture can catch the terminal halfway through a frame: wait for a full screenful.
    screen = terminal.wait_for(
        lambda s: "Order" in s and "Progress" in s and "Quit" in s and rows_of(s) >= 10,
        "the board with a screenful of orders",
    )
    lines = screen.splitlines()
    assert len(lines) <= 24 and all(len(line) <= 80 for line in lines), screen
    assert any("BOARD" in line and "open" in line for line in lines), screen
    header = next(line for line in lines if line.lstrip().startswith("Order"))
    for column in ("Order", "Product", "Due", "Stage", "Progress", "Material", "Marks"):
        assert column in header, header
    keys = "\n".join(lines[-2:])  # the key bar takes two lines when one cannot hold it
    assert "Quit" in keys and "Board" in keys and "Devices" in keys, screen

    # Wider and back: the columns follow, nothing breaks.
    terminal.tmux("resize-window", "-t", terminal.session, "-x", "160", "-y", "40")
    terminal.wait_for(lambda s: "Description" in s, "the wide board's description column")
    terminal.tmux("resize-window", "-t", terminal.session, "-x", "80", "-y", "24")
    terminal.wait_for(
        lambda s: "Description" not in s and "Order" in s and "WO-" in s, "the narrow board again"
    )
    assert terminal.exit_status() is None

    terminal.keys("C-q")
    assert terminal.wait_exit() == 0


def last_simulated_scan(path: Path) -> tuple[int, int, bytes] | None:
    """(id, time, raw) of the newest scan a simulated scanner sent, if any."""
    conn = sqlite3.connect(path)
    try:
        row = conn.execute(
            "SELECT id, time_ms, raw FROM scan_journal WHERE source = 'serial' "
            "ORDER BY id DESC LIMIT 1"
        ).fetchone()
    finally:
        conn.close()
    return None if row is None else (int(row[0]), int(row[1]), bytes(row[2]))


def run_demo(folder: Path, path: Path, *options: str) -> tuple[int, int, bytes]:
    """`shopfloor demo` in tmux until its simulated scanners have landed a scan past the
    plant it opened with; quit with Ctrl+Q; the newest simulated scan."""
    folder.mkdir()
    terminal = Terminal(folder)
    try:
        before = last_simulated_scan(path) if path.exists() else None
        terminal.start(["demo", "--db", str(path), "--pace", "0.1", *options])
        terminal.wait_text("WO-")
        deadline = time.monotonic() + WAIT_SECONDS
        while (newest := last_simulated_scan(path)) is None or newest == before:
            assert time.monotonic() < deadline, "the simulated scanners landed no scan"
            time.sleep(0.1)
        terminal.keys("C-q")
        assert terminal.wait_exit() == 0
    finally:
        terminal.stop()
    return newest


def journal_has(path: Path, scan: tuple[int, int, bytes]) -> bool:
    conn = sqlite3.connect(path)
    try:
        found = conn.execute(
            "SELECT 1 FROM scan_journal WHERE id = ? AND time_ms = ? AND raw = ?", scan
        ).fetchone()
    finally:
        conn.close()
    return found is not None


def test_the_demo_keeps_its_plant_between_runs_unless_asked_fresh(tmp_path: Path) -> None:
    """Found: every `make demo` rebuilt the plant and dropped what was scanned."""
    path = tmp_path / "demo.db"
    first = run_demo(tmp_path / "first", path)
    second = run_demo(tmp_path / "second", path)
    assert second[0] > first[0] and journal_has(path, first), "the first run's scans stay"
    run_demo(tmp_path / "fresh", path, "--fresh")
    assert not journal_has(path, second), "--fresh builds the plant anew"


def test_a_digital_link_qr_received_at_the_dock_shows_its_lot_dates_in_stock(
    terminal: Terminal, plant: Path
) -> None:
    """A supplier's GS1 Digital Link QR, typed in by a wedge scanner at the receiving dock:
    12.5 kg of powder (net weight, AI 3103) with its lot and expiry, as the Stock screen
    then shows it; a web address that is not GS1 is an unknown barcode."""
    conn = sqlite3.connect(plant)
    try:
        (gtin,) = conn.execute("SELECT gtin FROM items WHERE sku = 'PWD-7035'").fetchone()
    finally:
        conn.close()
    link = f"https://qr.powders.example/01/{gtin}/10/LDL1?17=270630&3103=012500"
    terminal.start(["--db", str(plant), "--station", "RECEIVING"], width=160, height=40)
    terminal.wait_text("SCAN · RECEIVING", "Scan your badge to sign in")
    terminal.scan("B1001", link, "https://www.powders.example/ral-7035")
    terminal.wait_text("✓ received 12.5 PWD-7035 lot LDL1 into RCV-DOCK")
    terminal.wait_text("✗ unknown barcode 'https://www.powders.example/ral-7035'")

    terminal.keys("F3")
    terminal.wait_text("Search or scan")
    terminal.scan("PWD-7035")
    screen = terminal.wait_text("Expires", "LDL1")
    # The on-hand row (the history's receipt names the lot too, without the dates).
    rows = [line for line in screen.splitlines() if "LDL1" in line and "2027-06-30" in line]
    assert len(rows) == 1 and "RCV-DOCK" in rows[0] and "12.5" in rows[0], screen
    terminal.keys("C-q")
    assert terminal.wait_exit() == 0


def test_demo_has_an_ssi_scanner_acknowledged_on_the_devices_screen(
    terminal: Terminal, tmp_path: Path
) -> None:
    """`shopfloor demo`: receiving's simulated scanner speaks SSI; the Devices screen (F6)
    shows it as SSI with its revision and the scans the host acknowledged."""
    db = tmp_path / "demo.db"
    terminal.start(["demo", "--db", str(db), "--pace", "0.05"], width=200, height=40)
    conn: sqlite3.Connection | None = None
    try:
        deadline = time.monotonic() + 30
        acks = 0
        while time.monotonic() < deadline and acks == 0:
            time.sleep(0.2)
            if conn is None and db.exists():
                conn = sqlite3.connect(db)
            if conn is not None:
                try:
                    row = conn.execute(
                        "SELECT acks FROM scanners WHERE name = 'sim-receiving' "
                        "AND protocol = 'ssi'"
                    ).fetchone()
                except sqlite3.OperationalError:
                    continue  # the demo is still building its plant
                acks = int(row[0]) if row is not None else 0
        assert acks > 0, "the demo's SSI scanner was never acknowledged"
    finally:
        if conn is not None:
            conn.close()
    terminal.keys("F6")
    screen = terminal.wait_text("sim-receiving", "SSI", "NBRXXAAE")
    line = next(row for row in screen.splitlines() if "sim-receiving" in row)
    assert "SSI" in line and "lines" not in line
    terminal.keys("C-q")
    terminal.wait_exit()
