"""Capacity and supply data (issue 11, item 1): standard times on routings, capacity on
stages, the working calendar, purchase and sales orders, all through `shopfloor import`.

Today's CSVs (without the new columns) still load with the defaults; a file without the
optional columns keeps what the record holds; a bad row exits 1 naming
`file:line: column:` and leaves the database exactly as it was.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from db.schema import init_db
from tests.db.test_import import dump, query, run
from tests.plant import PLANT_DIR, copy_plant

pytestmark = pytest.mark.timeout(60)

STAGES = (
    "code,name,location,hours_per_day,parallel\nCUT,Cutting,W-CUT,16,2\nASSY,Assembly,W-ASSY,,\n"
)
ROUTINGS = (
    "product,seq,stage,setup_min,run_min_per_unit\n"
    "P1,10,CUT,30,1.5\nP1,20,ASSY,,12.25\nP2,10,ASSY,,\n"
)
CALENDAR = "date,working\n2030-01-01,0\n2030-01-05,yes\n"
PURCHASE_ORDERS = (
    "number,item,qty,due,supplier\nPO1,C1,40.5,2030-01-08,Steel Co\nPO1,C2,100,2030-01-09,\n"
    "PO2,C1,10,2030-01-20,Steel Co\n"
)
SALES_ORDERS = (
    "number,customer,product,qty,due,work_order\nSO1,Acme,P1,10,2030-01-16,WO1\n"
    "SO2,Bolt Ltd,P2,4,2030-02-01,\n"
)


@pytest.fixture
def plant(tmp_path: Path) -> Path:
    """The test plant with capacity, standard times, a calendar and supply."""
    folder = copy_plant(tmp_path / "plant")
    for name, text in (("stages.csv", STAGES), ("routings.csv", ROUTINGS),
                       ("calendar.csv", CALENDAR), ("purchase_orders.csv", PURCHASE_ORDERS),
                       ("sales_orders.csv", SALES_ORDERS)):  # fmt: skip
        (folder / name).write_text(text)
    return folder


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "floor.db"
    init_db(path).close()
    return path


def test_capacity_times_calendar_and_supply_import(db_path: Path, plant: Path) -> None:
    result = run("import", "--db", str(db_path), str(plant))
    assert result.exit_code == 0, result.output
    assert "calendar.csv: 2 rows" in result.stdout
    assert "purchase_orders.csv: 3 rows" in result.stdout
    assert "sales_orders.csv: 2 rows" in result.stdout
    # An empty capacity cell is the default: 8 hours, one unit at a time.
    assert query(db_path, "SELECT code, hours_per_day, parallel FROM stages ORDER BY code") == [
        ("ASSY", 8.0, 1), ("CUT", 16.0, 2),
    ]  # fmt: skip
    # An empty standard time is unknown (NULL), not zero minutes.
    assert query(
        db_path, "SELECT product, seq, setup_min, run_min_per_unit FROM routings ORDER BY 1, 2"
    ) == [("P1", 10, 30.0, 1.5), ("P1", 20, None, 12.25), ("P2", 10, None, None)]
    assert query(db_path, "SELECT date, working FROM calendar ORDER BY date") == [
        ("2030-01-01", 0), ("2030-01-05", 1),
    ]  # fmt: skip
    assert query(
        db_path,
        "SELECT number, item, qty_milli, due, supplier, received_milli FROM purchase_orders "
        "ORDER BY number, item",
    ) == [
        ("PO1", "C1", 40_500, "2030-01-08", "Steel Co", 0),
        ("PO1", "C2", 100_000, "2030-01-09", "", 0),
        ("PO2", "C1", 10_000, "2030-01-20", "Steel Co", 0),
    ]
    assert query(
        db_path,
        "SELECT number, customer, product, qty_milli, due, work_order FROM sales_orders "
        "ORDER BY number",
    ) == [
        ("SO1", "Acme", "P1", 10_000, "2030-01-16", "WO1"),
        ("SO2", "Bolt Ltd", "P2", 4_000, "2030-02-01", None),
    ]


def test_todays_files_load_with_the_defaults(db_path: Path) -> None:
    assert run("import", "--db", str(db_path), str(PLANT_DIR)).exit_code == 0
    assert query(db_path, "SELECT DISTINCT hours_per_day, parallel FROM stages") == [(8.0, 1)]
    assert query(db_path, "SELECT DISTINCT setup_min, run_min_per_unit FROM routings") == [
        (None, None)
    ]


def test_an_older_export_keeps_the_standard_times_and_capacity(db_path: Path, plant: Path) -> None:
    assert run("import", "--db", str(db_path), str(plant)).exit_code == 0
    for kind in ("stages", "routings"):
        result = run("import", "--db", str(db_path), kind, str(PLANT_DIR / f"{kind}.csv"))
        assert result.exit_code == 0, result.output
    assert query(db_path, "SELECT hours_per_day, parallel FROM stages WHERE code = 'CUT'") == [
        (16.0, 2)
    ]
    assert query(db_path, "SELECT setup_min, run_min_per_unit FROM routings WHERE seq = 10 "
                 "AND product = 'P1'") == [(30.0, 1.5)]  # fmt: skip


# file, a line appended, the message's start, words it must also hold
BAD_ROWS = [
    ("stages.csv", "PAINT,Painting,W-CUT,0,1", "stages.csv:4: hours_per_day:", ("more than 0",)),
    ("stages.csv", "PAINT,Painting,W-CUT,25,1", "stages.csv:4: hours_per_day:", ("at most 24",)),
    ("stages.csv", "PAINT,Painting,W-CUT,8,0", "stages.csv:4: parallel:", ("whole number",)),
    ("stages.csv", "PAINT,Painting,W-CUT,8h,1", "stages.csv:4: hours_per_day:", ("not a number",)),
    ("routings.csv", "P2,20,CUT,-5,1", "routings.csv:5: setup_min:", ("at least 0",)),
    ("routings.csv", "P2,20,CUT,5,0.00001", "routings.csv:5: run_min_per_unit:", ("3 decimals",)),
    ("calendar.csv", "2030-02-30,1", "calendar.csv:4: date:", ("YYYY-MM-DD",)),
    ("calendar.csv", "20300203,1", "calendar.csv:4: date:", ("YYYY-MM-DD",)),
    ("calendar.csv", "2030-02-03,maybe", "calendar.csv:4: working:", ("yes/no",)),
    ("calendar.csv", "2030-02-03,", "calendar.csv:4: working:", ("empty",)),
    ("calendar.csv", "2030-01-01,1", "calendar.csv:4: date:", ("also on line 2",)),
    ("purchase_orders.csv", "PO3,C9,5,2030-01-08,X", "purchase_orders.csv:5: item:",
     ("'C9' is not in items",)),
    ("purchase_orders.csv", "PO3,C1,0,2030-01-08,X", "purchase_orders.csv:5: qty:",
     ("more than zero",)),
    ("purchase_orders.csv", "PO3,C1,5,next week,X", "purchase_orders.csv:5: due:",
     ("YYYY-MM-DD",)),
    ("purchase_orders.csv", "PO1,C1,5,2030-01-08,X", "purchase_orders.csv:5: item:",
     ("also on line 2",)),
    ("sales_orders.csv", "SO3,Acme,P2,4,2030-02-01,WO1", "sales_orders.csv:4: work_order:",
     ("WO1 makes P1, not P2",)),
    ("sales_orders.csv", "SO3,Acme,P1,4,2030-02-01,WO9", "sales_orders.csv:4: work_order:",
     ("'WO9' is not in work_orders",)),
    ("sales_orders.csv", "SO3,,P1,4,2030-02-01,", "sales_orders.csv:4: customer:", ("empty",)),
]  # fmt: skip


@pytest.mark.parametrize(("name", "line", "message", "words"), BAD_ROWS,
                         ids=[f"{b[0]}:{b[1]}" for b in BAD_ROWS])  # fmt: skip
def test_a_bad_row_names_file_line_and_column_and_changes_nothing(
    db_path: Path, plant: Path, name: str, line: str, message: str, words: tuple[str, ...]
) -> None:
    assert run("import", "--db", str(db_path), str(plant)).exit_code == 0
    path = plant / name
    path.write_text(path.read_text() + line + "\n")
    before = dump(db_path)
    result = run("import", "--db", str(db_path), name.removesuffix(".csv"), str(path))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {message}"), result.stderr
    for word in words:
        assert word in result.stderr, result.stderr
    assert dump(db_path) == before


def test_a_purchase_order_keeps_what_was_received_against_it(db_path: Path, plant: Path) -> None:
    assert run("import", "--db", str(db_path), str(plant)).exit_code == 0
    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute("UPDATE purchase_orders SET received_milli = 30000 WHERE number = 'PO1' "
                     "AND item = 'C1'")  # fmt: skip
    conn.close()
    path = plant / "purchase_orders.csv"
    path.write_text(path.read_text().replace("PO1,C1,40.5,", "PO1,C1,45,"))
    assert run("import", "--db", str(db_path), "purchase_orders", str(path)).exit_code == 0
    assert query(db_path, "SELECT qty_milli, received_milli FROM purchase_orders "
                 "WHERE number = 'PO1' AND item = 'C1'") == [(45_000, 30_000)]  # fmt: skip
    path.write_text(path.read_text().replace("PO1,C1,45,", "PO1,C1,20,"))
    before = dump(db_path)
    result = run("import", "--db", str(db_path), "purchase_orders", str(path))
    assert result.exit_code == 1
    assert "purchase_orders.csv:2: qty: 30 of C1 is already received" in result.stderr
    assert dump(db_path) == before
