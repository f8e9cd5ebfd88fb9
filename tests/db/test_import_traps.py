"""Re-importing work orders (issue 9, item 5): an order already worked on is never rewritten
in silence, and a due date moved by a file is a due-date change like a supervisor's.

Every import runs through the `shopfloor import` command; progress and issued material
are posted through the real ledger into the same WAL database file. A refused file
must exit 1 naming `file:line: column:` and leave the database exactly as it was.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from db import ledger, progress, supervision
from db.connection import clock, connect
from db.orders import order_detail
from db.schema import init_db
from tests.db.test_import import dump, query, run
from tests.plant import EPOCH_MS, PLANT_DIR, Ticker, copy_plant

pytestmark = pytest.mark.timeout(60)

OPERATOR = ledger.Origin(operator="B-OP", station="CUT-1")
STORES = ledger.Origin(operator="B-STORE", station="STORES")


@pytest.fixture
def plant(tmp_path: Path) -> Path:
    return copy_plant(tmp_path / "plant")


@pytest.fixture
def floor(tmp_path: Path) -> Path:
    """The plant imported; WO1 has 3 units done at CUT, WO2 has steel issued to it, WO3
    is untouched."""
    path = tmp_path / "floor.db"
    init_db(path).close()
    assert run("import", "--db", str(path), str(PLANT_DIR)).exit_code == 0
    conn = connect(path)
    try:
        with clock(Ticker(EPOCH_MS + 3_600_000)):
            progress.report_progress(conn, "WO1", "CUT", 3_000, origin=OPERATOR)
            ledger.receive(conn, "C1", 5_000, "S1", origin=STORES)
            ledger.issue(conn, "WO2", "C1", 1_000, "S1", origin=STORES)
    finally:
        conn.close()
    return path


def _order_line(plant: Path, old: str, new: str) -> Path:
    path = plant / "workorders.csv"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))
    return path


def _refused(db: Path, file: Path, message: str, *words: str, badge: str | None = None) -> None:
    before = dump(db)
    args = ["import", "--db", str(db), "workorders", str(file)]
    result = run(*args, *(["--badge", badge] if badge else []))
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(f"error: {message}"), result.stderr
    for word in words:
        assert word in result.stderr, result.stderr
    assert "Traceback" not in result.output
    assert dump(db) == before


def test_an_order_in_progress_keeps_its_product(floor: Path, plant: Path) -> None:
    """Found: re-import changed an in-progress order's product."""
    file = _order_line(plant, "WO1,P1,10,", "WO1,P2,10,")
    _refused(floor, file, "workorders.csv:2: product:", "WO1", "P1", "progress")


def test_an_order_in_progress_keeps_its_quantity(floor: Path, plant: Path) -> None:
    """Found: re-import cut the quantity below what was already done (3 of 10)."""
    file = _order_line(plant, "WO1,P1,10,", "WO1,P1,2,")
    _refused(floor, file, "workorders.csv:2: qty:", "WO1", "10", "progress")
    file = _order_line(plant, "WO1,P1,2,", "WO1,P1,12,")
    _refused(floor, file, "workorders.csv:2: qty:", "WO1")


def test_an_order_with_issued_material_keeps_product_and_quantity(floor: Path, plant: Path) -> None:
    """WO2 has no progress yet, but steel is held against it."""
    file = _order_line(plant, "WO2,P1,2.5,", "WO2,P1,5,")
    _refused(floor, file, "workorders.csv:3: qty:", "WO2", "material")
    file = _order_line(plant, "WO2,P1,5,", "WO2,P2,2.5,")
    _refused(floor, file, "workorders.csv:3: product:", "WO2", "material")


def test_a_due_date_moved_by_a_file_needs_a_badge(floor: Path, plant: Path) -> None:
    """Found: re-import moved an in-progress order's due date with no trace."""
    file = _order_line(plant, "WO1,P1,10,2030-01-15,", "WO1,P1,10,2030-03-01,")
    _refused(floor, file, "workorders.csv:2: due:", "2030-01-15", "2030-03-01", "--badge")
    # An operator may not move due dates by scanning, nor by file.
    _refused(floor, file, "workorders.csv:2: due:", "coordinator", badge="B-OP")
    _refused(floor, file, "workorders.csv:2: due:", "NOBODY", badge="NOBODY")


def test_a_due_date_moved_by_a_file_is_recorded_like_a_supervisors(
    floor: Path, plant: Path
) -> None:
    # The supervisor's change through the ledger, as the order screen makes it ...
    conn = connect(floor)
    try:
        with clock(lambda: EPOCH_MS + 7_200_000):
            supervision.change_due_date(conn, "WO3", "2030-02-15", by="B-SUP", reason="customer")
    finally:
        conn.close()
    # ... and the coordinator's, through the ERP file: WO1 in progress, WO3 untouched.
    _order_line(plant, "WO1,P1,10,2030-01-15,", "WO1,P1,10,2030-03-01,")
    file = _order_line(plant, "WO3,P2,4,2030-02-01,", "WO3,P2,4,2030-04-01,")
    result = run("import", "--db", str(floor), "workorders", str(file), "--badge", "B-COORD")
    assert result.exit_code == 0, result.output
    assert query(floor, "SELECT number, due FROM work_orders ORDER BY number") == [
        ("WO1", "2030-03-01"), ("WO2", "2020-01-10"), ("WO3", "2030-04-01"),
    ]  # fmt: skip
    conn = connect(floor)
    try:
        wo1 = order_detail(conn, "WO1")
        wo3 = order_detail(conn, "WO3")
    finally:
        conn.close()
    assert wo1 is not None and wo3 is not None
    history = [
        (c.old_due, c.new_due, c.by_operator, c.by_name, c.reason) for c in wo3.due_date_changes
    ]
    assert history == [
        ("2030-02-15", "2030-04-01", "B-COORD", "Cora Coord", "import"),
        ("2030-02-01", "2030-02-15", "B-SUP", "Sara Super", "customer"),
    ]
    assert [(c.old_due, c.new_due, c.by_operator, c.reason) for c in wo1.due_date_changes] == [
        ("2030-01-15", "2030-03-01", "B-COORD", "import")
    ]
    # The same file again changes nothing and records nothing more.
    before = dump(floor)
    again = run("import", "--db", str(floor), "workorders", str(file), "--badge", "B-COORD")
    assert again.exit_code == 0, again.output
    assert dump(floor) == before
    assert run("check", "--db", str(floor)).exit_code == 0


def test_an_order_in_progress_still_takes_a_new_priority_and_barcode(
    floor: Path, plant: Path
) -> None:
    file = _order_line(plant, "WO1,P1,10,2030-01-15,2,", "WO1,P1,10,2030-01-15,1,TRAVELER-1")
    result = run("import", "--db", str(floor), "workorders", str(file))
    assert result.exit_code == 0, result.output
    assert query(floor, "SELECT priority, barcode, qty_milli, product FROM work_orders "
                 "WHERE number = 'WO1'") == [(1, "TRAVELER-1", 10_000, "P1")]  # fmt: skip
    assert query(floor, "SELECT COUNT(*) FROM due_date_changes") == [(0,)]


def test_a_refused_order_in_a_directory_loads_none_of_the_files(floor: Path, plant: Path) -> None:
    """The refusal comes from the last file; the earlier files of the run are not kept."""
    (plant / "items.csv").write_text(
        (plant / "items.csv").read_text().replace("C2,Gasket,", "C2,PU gasket,")
    )
    _order_line(plant, "WO1,P1,10,", "WO1,P1,2,")
    before = dump(floor)
    result = run("import", "--db", str(floor), str(plant), "--badge", "B-SUP")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: workorders.csv:2: qty:"), result.stderr
    assert dump(floor) == before


def test_unterminated_quote_through_the_command_changes_nothing(
    floor: Path, tmp_path: Path
) -> None:
    """Found: an open quote swallowed the rest of the file into one value. The counts of
    every table stay as they were, and the message points at the line the quote opened."""
    path = tmp_path / "items.csv"
    rows = [f"K{n},Bin part {n},pcs,,0," for n in range(200)]
    path.write_text(
        "sku,description,uom,gtin,lot_tracked,barcode\n"
        + "\n".join(rows[:50])
        + '\nK-OPEN,"3 inch bracket,pcs,,0,\n'
        + "\n".join(rows[50:])
        + "\n"
    )
    tables = [r[0] for r in query(floor, "SELECT name FROM sqlite_master WHERE type = 'table'")]

    def counts() -> dict[object, object]:
        conn = sqlite3.connect(floor)
        try:
            return {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}
        finally:
            conn.close()

    before = counts()
    result = run("import", "--db", str(floor), "items", str(path))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: items.csv:52: description: "), result.stderr
    assert "quote" in result.stderr
    assert counts() == before
