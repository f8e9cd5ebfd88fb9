"""`shopfloor shortages`, `picklist` and `packing-slip` through the real command
(CliRunner): the first two on the small plant with stock and supply
(tests/plant/supply.py), with the hand-worked figures of tests/db/test_shortages.py in
the item's unit; the packing slip on the demo plant, read back off the paper."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from tests.plant.supply import supply_plant
from tui.cli import cli

pytestmark = pytest.mark.timeout(60)

KEYS = [
    "work_order", "item", "uom", "stage", "required", "issued", "to_issue", "from_stock",
    "from_supply", "short", "supply", "answer", "needed_by",
]  # fmt: skip


@pytest.fixture
def floor(tmp_path: Path) -> str:
    path = tmp_path / "supply.db"
    supply_plant(path).close()
    return str(path)


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def as_json(*args: str) -> Any:
    result = invoke(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_shortages_json_one_row_per_order_and_item(floor: str) -> None:
    rows = as_json("shortages", "--db", floor)
    assert all(list(r) == KEYS for r in rows)
    figures = [
        (r["work_order"], r["item"], r["required"], r["issued"], r["to_issue"],
         r["from_stock"], r["from_supply"], r["short"], r["supply"], r["answer"])
        for r in rows
    ]  # fmt: skip
    assert figures == [
        ("WO2", "C1", 1.25, 0, 1.25, 1.25, 0, 0, [], "to_pick"),
        ("WO2", "C2", 5, 0, 5, 5, 0, 0, [], "to_pick"),
        ("WO2", "C3", 0.003, 0, 0.003, 0.003, 0, 0, [], "to_pick"),
        ("WO1", "C1", 4, 1, 3, 1.75, 1.25, 0, ["PO-1"], "on_order"),
        ("WO1", "C2", 20, 0, 20, 2, 0, 18, [], "short"),
        ("WO1", "C3", 0.008, 0, 0.008, 0.008, 0, 0, [], "to_pick"),
        ("WO3", "C1", 5, 0, 5, 0, 5, 0, ["PO-1", "PO-2"], "supply_late"),
        ("WO3", "C3", 12, 0, 12, 0, 0, 12, [], "short"),
    ]  # fmt: skip
    assert rows[0]["uom"] == "sheet" and rows[0]["stage"] == "CUT"
    assert rows[6]["needed_by"] == "2030-02-01"  # WO3's due date: no forecast yet


def test_shortages_of_one_order_and_for_people(floor: str) -> None:
    rows = as_json("shortages", "--db", floor, "--order", "WO3")
    assert [(r["item"], r["short"]) for r in rows] == [("C1", 0), ("C3", 12)]
    human = invoke("shortages", "--db", floor)
    assert human.exit_code == 0
    wo1 = next(line for line in human.stdout.splitlines() if line.split()[:2] == ["WO1", "C2"])
    assert wo1.split()[-2:] == ["18", "SHORT"]
    assert "PO-1 2030-01-10 PO-2 2030-03-01" in human.stdout


def test_unknown_order_is_refused_with_what_to_do(floor: str) -> None:
    for command in (["shortages", "--order", "WO9"], ["picklist", "WO9"]):
        result = invoke(*command, "--db", floor)
        assert result.exit_code == 1
        assert "work order WO9 does not exist" in result.output
        assert "Traceback" not in result.output


def test_picklist_bin_by_bin_oldest_lot_first(floor: str) -> None:
    assert as_json("picklist", "--db", floor, "WO2") == [
        {"item": "C1", "uom": "sheet", "location": "S1", "lot": None, "qty": 1},
        {"item": "C1", "uom": "sheet", "location": "RCV", "lot": None, "qty": 0.25},
        {"item": "C2", "uom": "m", "location": "S2", "lot": "L-OLD", "qty": 3},
        {"item": "C2", "uom": "m", "location": "S1", "lot": "L-NEW", "qty": 2},
        {"item": "C3", "uom": "kg", "location": "S1", "lot": None, "qty": 0.003},
    ]
    human = invoke("picklist", "--db", floor, "WO3")
    assert human.exit_code == 0
    assert human.stdout.strip() == "work order WO3: nothing to pick from the stores"


# ---------------------------------------------------------------- packing slip


def test_packing_slip_for_what_left_against_a_sales_order(demo_db: str, tmp_path: Path) -> None:
    """Ship two against a sales order at the shipping station; its packing slip is a PDF
    whose barcode sets the order again at a SHIP station, and whose words say what left."""
    from db.connection import connect
    from db.pipeline import process_scan
    from tests.label_reading import tool, zbar

    conn = connect(demo_db)
    number, product = conn.execute(
        "SELECT o.number, o.product FROM sales_orders o JOIN stock s ON s.item = o.product "
        "AND s.location = 'FG-01' AND s.qty_milli >= 2000 ORDER BY o.number LIMIT 1"
    ).fetchone()
    for code in ("B1001", f"SO:{number}", "QTY:2", product):
        assert process_scan(conn, "SHIPPING", code.encode()).status == "accepted"
    conn.close()
    out = tmp_path / "slip.pdf"
    result = invoke("packing-slip", "--db", demo_db, number, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")
    pages = tmp_path / "pages"
    pages.mkdir()
    subprocess.run(
        [tool("pdftoppm", "poppler-utils"), "-r", "200", "-png", str(out), str(pages / "p")],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    (page,) = sorted(pages.glob("p*.png"))
    assert zbar(page) == [f"SO:{number}"]


def test_packing_slip_refuses_what_it_cannot_print(demo_db: str, tmp_path: Path) -> None:
    out = tmp_path / "slips"
    unknown = invoke("packing-slip", "--db", demo_db, "SO-1", "--out", str(out / "a.pdf"))
    assert unknown.exit_code == 1 and "unknown sales order 'SO-1'" in unknown.output
    not_pdf = invoke("packing-slip", "--db", demo_db, "SO-5001", "--out", str(out / "a.png"))
    assert not_pdf.exit_code == 1 and "a packing slip is a PDF" in not_pdf.output
    assert not out.exists()
