"""Master data import (SPEC §3, §6, §8): a plant's CSVs in, all or nothing, clear errors.

Everything goes through the `shopfloor import` command as a person would run it.
A bad row must exit 1 naming `file:line: column:` and leave the database exactly
as it was (a full `iterdump` compared before and after).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from db.connection import clock
from db.schema import init_db
from tests.plant import CSV_FILES, PLANT_DIR, copy_plant, fixed
from tui.cli import cli

pytestmark = pytest.mark.timeout(60)

KIND_OF = {
    "locations.csv": "locations",
    "stages.csv": "stages",
    "items.csv": "items",
    "operators.csv": "operators",
    "routings.csv": "routings",
    "bom.csv": "bom",
    "stations.csv": "stations",
    "workorders.csv": "workorders",
    "reasons.csv": "reasons",
}
COUNTS = {
    "locations": 8,
    "stages": 2,
    "items": 6,
    "operators": 4,
    "routings": 3,
    "bill_of_materials": 5,
    "stations": 4,
    "work_orders": 3,
    "work_order_stages": 5,
    "barcodes": 6 + 8 + 4 + 3,
    "reasons": 4,
}


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A new, empty (initialised) database file."""
    path = tmp_path / "floor.db"
    init_db(path).close()
    return path


@pytest.fixture
def plant(tmp_path: Path) -> Path:
    """An editable copy of the plant's CSVs."""
    return copy_plant(tmp_path / "plant")


def run(*args: str) -> Result:
    # The clock is fixed so that two imports of the same files give identical rows.
    with clock(fixed(1_767_225_600_000)):
        return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def dump(path: Path) -> list[str]:
    """Every row of every table, but not when the migration ran (init stamps the clock)."""
    conn = sqlite3.connect(path)
    try:
        return [line for line in conn.iterdump() if "_sqlite_migrations" not in line]
    finally:
        conn.close()


def counts(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(path)
    try:
        return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in COUNTS}
    finally:
        conn.close()


def query(path: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        return [tuple(r) for r in conn.execute(sql, params)]
    finally:
        conn.close()


def test_the_plant_imports_from_a_directory(db_path: Path) -> None:
    result = run("import", "--db", str(db_path), str(PLANT_DIR), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [
        {"kind": "locations", "file": "locations.csv", "rows": 8},
        {"kind": "stages", "file": "stages.csv", "rows": 2},
        {"kind": "items", "file": "items.csv", "rows": 6},
        {"kind": "operators", "file": "operators.csv", "rows": 4},
        {"kind": "routings", "file": "routings.csv", "rows": 3},
        {"kind": "bom", "file": "bom.csv", "rows": 5},
        {"kind": "stations", "file": "stations.csv", "rows": 4},
        {"kind": "workorders", "file": "workorders.csv", "rows": 3},
        {"kind": "reasons", "file": "reasons.csv", "rows": 4},
    ]
    assert counts(db_path) == COUNTS
    # Defaults and explicit barcodes, GTINs as 14 digits, quantities in thousandths.
    assert query(db_path, "SELECT value, kind, code FROM barcodes WHERE value != code") == [
        ("LOC-S2", "location", "S2"),
        ("ITEM-X1", "item", "X1"),
        ("WO-THREE", "work_order", "WO3"),
    ]
    assert query(db_path, "SELECT sku, gtin, lot_tracked FROM items WHERE gtin IS NOT NULL") == [
        ("C1", "04006381333931", 0),
        ("C3", "00000096385074", 0),
    ]
    assert query(db_path, "SELECT component, qty_per_milli, stage FROM bill_of_materials "
                 "WHERE product = 'P1' ORDER BY component") == [
        ("C1", 500, "CUT"), ("C2", 2000, "ASSY"), ("C3", 1, None),
    ]  # fmt: skip
    assert query(
        db_path,
        "SELECT number, qty_milli, due, priority, status, created_ms FROM work_orders "
        "ORDER BY number",
    ) == [
        ("WO1", 10_000, "2030-01-15", 2, "released", 1_767_225_600_000),
        ("WO2", 2_500, "2020-01-10", 1, "released", 1_767_225_600_000),
        ("WO3", 4_000, "2030-02-01", 3, "released", 1_767_225_600_000),
    ]
    # A work order copies its product's routing into its own stages.
    assert query(db_path, "SELECT work_order, seq, stage FROM work_order_stages "
                 "ORDER BY work_order, seq") == [
        ("WO1", 10, "CUT"), ("WO1", 20, "ASSY"), ("WO2", 10, "CUT"), ("WO2", 20, "ASSY"),
        ("WO3", 10, "ASSY"),
    ]  # fmt: skip
    human = run("import", "--db", str(db_path), str(PLANT_DIR))
    assert human.exit_code == 0
    assert "workorders.csv: 3 rows" in human.stdout


def test_each_kind_imports_on_its_own_with_the_same_result(tmp_path: Path, db_path: Path) -> None:
    for name in CSV_FILES:
        result = run("import", "--db", str(db_path), KIND_OF[name], str(PLANT_DIR / name))
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith(f"{name}: ")
    whole = tmp_path / "whole.db"
    assert run("init", "--db", str(whole)).exit_code == 0
    assert run("import", "--db", str(whole), str(PLANT_DIR)).exit_code == 0
    assert dump(db_path) == dump(whole)


def test_import_refuses_a_missing_database(tmp_path: Path) -> None:
    """Only `init` creates a database: a typo in --db must not start an empty plant."""
    path = tmp_path / "new.db"
    result = run("import", "--db", str(path), str(PLANT_DIR))
    assert result.exit_code == 1
    assert f"run `shopfloor init --db {path}` first" in result.output
    assert not path.exists()


def test_reimport_updates_rows_instead_of_duplicating(db_path: Path, plant: Path) -> None:
    assert run("import", "--db", str(db_path), str(plant)).exit_code == 0
    first = dump(db_path)
    assert run("import", "--db", str(db_path), str(plant)).exit_code == 0
    assert dump(db_path) == first  # the same files twice: the same record
    (plant / "locations.csv").write_text(
        (plant / "locations.csv")
        .read_text()
        .replace("S1,Stores bin 1,storeroom,", "S1,Stores aisle 1,storeroom,BIN-S1")
    )
    (plant / "workorders.csv").write_text(
        (plant / "workorders.csv")
        .read_text()
        .replace("WO1,P1,10,2030-01-15,2,", "WO1,P1,12,2030-01-20,1,")
    )
    (plant / "items.csv").write_text(
        (plant / "items.csv").read_text().replace("C2,Gasket,m,,1,", "C2,PU gasket,m,,1,")
    )
    for kind, name in (("locations", "locations.csv"), ("items", "items.csv"),
                       ("workorders", "workorders.csv")):  # fmt: skip
        # A moved due date is a due-date change: somebody's, recorded (test_import_traps.py).
        result = run("import", "--db", str(db_path), kind, str(plant / name), "--badge", "B-COORD")
        assert result.exit_code == 0, result.output
    assert counts(db_path) == COUNTS
    assert query(db_path, "SELECT name, barcode FROM locations WHERE code = 'S1'") == [
        ("Stores aisle 1", "BIN-S1")
    ]
    # The old barcode is freed, the new one registered, nothing doubled.
    assert query(db_path, "SELECT value FROM barcodes WHERE code = 'S1'") == [("BIN-S1",)]
    assert query(db_path, "SELECT description FROM items WHERE sku = 'C2'") == [("PU gasket",)]
    assert query(
        db_path, "SELECT qty_milli, due, priority FROM work_orders WHERE number = 'WO1'"
    ) == [(12_000, "2030-01-20", 1)]
    assert query(db_path, "SELECT work_order, old_due, new_due, by_operator, reason "
                 "FROM due_date_changes") == [
        ("WO1", "2030-01-15", "2030-01-20", "B-COORD", "import")
    ]  # fmt: skip
    assert query(db_path, "SELECT COUNT(*) FROM work_order_stages WHERE work_order = 'WO1'") == [
        (2,)
    ]


# ---------------------------------------------------------------- bad rows


def _rewrite(plant: Path, name: str, old: str, new: str) -> None:
    text = (plant / name).read_text()
    assert old in text, (name, old)
    (plant / name).write_text(text.replace(old, new, 1))


def _append(plant: Path, name: str, *rows: str) -> None:
    with (plant / name).open("a") as handle:
        for row in rows:
            handle.write(row + "\n")


# A valid GTIN-13 (4006381333948) in Arabic-Indic digits: str.isdigit() says yes.
ARABIC_INDIC_GTIN = "".join(chr(0x0660 + int(d)) for d in "4006381333948")

# (file, how to spoil it, the expected start of the message, words it must also contain).
# Each bad row comes after good new rows, so a half-loaded file would show in the dump.
BAD_ROWS: list[tuple[str, tuple[str, ...], str, tuple[str, ...]]] = [
    ("items.csv", ("replace", "sku,description,uom", "sku,descr,uom"),
     "items.csv:1: description: missing column", ("description",)),
    ("locations.csv", ("append", "S3,Stores bin 3,storeroom,", "S4,Overflow,warehouse,"),
     "locations.csv:11: kind:", ("warehouse",)),
    ("workorders.csv", ("append", "WO4,P1,5,2030-03-01,3,", "WO5,P1,5,2030-13-01,3,"),
     "workorders.csv:6: due:", ("2030-13-01", "YYYY-MM-DD")),
    ("workorders.csv", ("append", "WO4,P1,5,2030-03-01,3,", "WO5,P1,5,1 March,3,"),
     "workorders.csv:6: due:", ("1 March",)),
    ("routings.csv", ("append", "P2,20,CUT", "P2,30,PAINT"),
     "routings.csv:6: stage:", ("PAINT", "stages")),
    ("stations.csv", ("append", "PAINT-1,Paint cell,W-CUT,PAINT,PROGRESS"),
     "stations.csv:6: stage:", ("PAINT",)),
    ("stages.csv", ("append", "PAINT,Painting,W-PAINT"),
     "stages.csv:4: location:", ("W-PAINT",)),
    ("bom.csv", ("append", "P2,C2,1,ASSY", "P2,X1,abc,"),
     "bom.csv:8: qty_per:", ("abc",)),
    ("bom.csv", ("append", "P2,X1,0.0005,"),
     "bom.csv:7: qty_per:", ("3 decimals",)),
    ("workorders.csv", ("append", "WO4,P1,ten,2030-03-01,3,"),
     "workorders.csv:5: qty:", ("ten",)),
    ("workorders.csv", ("append", "WO4,P1,-2,2030-03-01,3,"),
     "workorders.csv:5: qty:", ("more than zero",)),
    ("items.csv", ("append", "C4,Bolt,pcs,,0,", "C5,Nut,pcs,4006381333932,0,"),
     "items.csv:9: gtin:", ("4006381333932",)),
    ("items.csv", ("append", "C4,Bolt,pcs,4006381333931,0,"),
     "items.csv:8: gtin:", ("C1",)),
    ("items.csv", ("append", "C4,Bolt,pcs,,maybe,"),
     "items.csv:8: lot_tracked:", ("maybe",)),
    ("operators.csv", ("append", "B-NEW,Nina New,manager"),
     "operators.csv:6: role:", ("manager",)),
    ("stations.csv", ("append", "PACK-1,Packing,FG,,PACKING"),
     "stations.csv:6: mode:", ("PACKING",)),
    ("routings.csv", ("append", "P2,second,ASSY"),
     "routings.csv:5: seq:", ("second",)),
    ("workorders.csv", ("append", "WO4,X9,5,2030-03-01,3,"),
     "workorders.csv:5: product:", ("X9",)),
    ("workorders.csv", ("append", "WO4,C1,5,2030-03-01,3,"),
     "workorders.csv:5: product:", ("routing",)),
    ("locations.csv", ("append", "S3,Stores bin 3,storeroom,", ",No code,storeroom,"),
     "locations.csv:11: code:", ("empty",)),
    ("locations.csv", ("append", "S3,Stores bin 3,storeroom,,extra"),
     "locations.csv:10: barcode:", ("more values than columns",)),
    # barcode collisions: the message names both rows
    ("items.csv", ("append", "C4,Bolt,pcs,,0,", "C5,Nut,pcs,,0,S1"),
     "items.csv:9: barcode:", ("'S1'", "location S1")),
    ("locations.csv", ("append", "S3,Stores bin 3,storeroom,ITEM-X1"),
     "locations.csv:10: barcode:", ("'ITEM-X1'", "item X1")),
    ("workorders.csv", ("append", "WO4,P1,5,2030-03-01,3,B-SUP"),
     "workorders.csv:5: barcode:", ("operator B-SUP",)),
    ("locations.csv", ("append", "S3,Stores bin 3,storeroom,LOC-S2"),
     "locations.csv:10: barcode:", ("location S2",)),
    # the scan grammar's prefixes are reserved
    ("locations.csv", ("append", "S3,Stores bin 3,storeroom,", "S4,Command,storeroom,CMD:DONE"),
     "locations.csv:11: barcode:", ("CMD:DONE", "reserved")),
    ("items.csv", ("append", "C4,Bolt,pcs,,0,qty:5"),
     "items.csv:8: barcode:", ("qty:5", "reserved")),
    ("workorders.csv", ("append", "WO4,P1,5,2030-03-01,3,LOT:7"),
     "workorders.csv:5: barcode:", ("LOT:7", "reserved")),
    ("operators.csv", ("append", "CMD:X,Sneaky,supervisor"),
     "operators.csv:6: badge:", ("CMD:X", "reserved")),
    ("operators.csv", ("append", "S1,Sam One,operator"),
     "operators.csv:6: badge:", ("location S1",)),
    # issue 9: a barcode equal to another entity's sku, GTIN (any length) or number
    ("items.csv", ("append", "C4,Bolt,pcs,,0,X1"),
     "items.csv:8: barcode:", ("'X1'", "sku of item X1")),
    ("items.csv", ("append", "C4,Bolt,pcs,,0,04006381333931"),
     "items.csv:8: barcode:", ("GTIN of item C1",)),
    ("items.csv", ("append", "C4,Bolt,pcs,,0,4006381333931"),
     "items.csv:8: barcode:", ("GTIN of item C1",)),
    ("locations.csv", ("append", "S3,Stores bin 3,storeroom,000096385074"),
     "locations.csv:10: barcode:", ("GTIN of item C3",)),
    ("items.csv", ("append", "4006381333931,Bolt,pcs,,0,BOLT"),
     "items.csv:8: sku:", ("GTIN of item C1",)),
    ("items.csv", ("append", "C4,Bolt,pcs,,0,12345670", "C5,Nut,pcs,000012345670,0,"),
     "items.csv:9: gtin:", ("'000012345670'", "barcode of item C4")),
    ("items.csv", ("append", "C4,Bolt,pcs,,0,WO3"),
     "items.csv:8: barcode:", ("number of work order WO3",)),
    ("operators.csv", ("append", "WO3,Walt Order,operator"),
     "operators.csv:6: badge:", ("work order WO3",)),
    ("locations.csv", ("append", "X1,Spare bin,storeroom,LOC-X1"),
     "locations.csv:10: code:", ("sku of item X1",)),
    ("workorders.csv", ("append", "C1,P1,5,2030-03-01,3,WO-C1"),
     "workorders.csv:5: number:", ("item C1",)),
    ("items.csv", ("append", "C4,Bolt,pcs,,0,NUM:5"),
     "items.csv:8: barcode:", ("NUM:5", "reserved")),
    ("locations.csv", ("append", "S3,Stores bin 3,storeroom,reason:x"),
     "locations.csv:10: barcode:", ("reason:x", "reserved")),
    ("items.csv", ("append", "QTY:1,Bolt,pcs,,0,BOLT"),
     "items.csv:8: sku:", ("QTY:1", "reserved")),
    # issue 9: a key twice in one file (the last row won)
    ("locations.csv", ("append", "S3,Stores bin 3,storeroom,", "S3,Stores bin three,storeroom,"),
     "locations.csv:11: code:", ("'S3'", "line 10")),
    ("items.csv", ("append", "C4,Bolt,pcs,,0,", "C4,Bolt M6,pcs,,0,"),
     "items.csv:9: sku:", ("'C4'", "line 8")),
    ("stages.csv", ("append", "CUT,Sawing,W-CUT"),
     "stages.csv:4: code:", ("'CUT'", "line 2")),
    ("operators.csv", ("append", "B-OP,Olga Other,operator"),
     "operators.csv:6: badge:", ("'B-OP'", "line 3")),
    ("routings.csv", ("append", "P2,20,CUT", "P2,020,ASSY"),
     "routings.csv:6: seq:", ("line 5",)),
    ("bom.csv", ("append", "P2,C2,1,ASSY", "P2,C2,2,ASSY"),
     "bom.csv:8: component:", ("line 7",)),
    ("stations.csv", ("append", "RECV,Receiving two,RCV,,RECEIVE"),
     "stations.csv:6: code:", ("'RECV'", "line 2")),
    ("workorders.csv", ("append", "WO1,P1,12,2030-01-15,2,"),
     "workorders.csv:5: number:", ("'WO1'", "line 2")),
    # issue 9: a quote left open swallowed the rest of the file into one value
    ("items.csv", ("append", 'C4,"Bolt M6,pcs,,0,', "C5,Nut,pcs,,0,", "C6,Washer,pcs,,0,"),
     "items.csv:8: description:", ("quote", "line 10")),
    # issue 9: NUL and control characters in codes
    ("items.csv", ("append", "C4\x00,Bolt,pcs,,0,"),
     "items.csv:8: sku:", ("'C4\\x00'", "control character")),
    ("locations.csv", ("append", "S3,Stores bin 3,storeroom,S3\x1b[2J"),
     "locations.csv:10: barcode:", ("\\x1b", "control character")),
    ("workorders.csv", ("append", "WO\u202e4,P1,5,2030-03-01,3,"),
     "workorders.csv:5: number:", ("\\u202e", "control character")),
    ("bom.csv", ("append", "P2,C2\x1d,1,ASSY"),
     "bom.csv:7: component:", ("\\x1d", "control character")),
    # issue 9: numbers outside the declared range (an OverflowError traceback)
    ("workorders.csv", ("append", "WO4,P1,5,2030-03-01,99999999999999999999,"),
     "workorders.csv:5: priority:", ("99999999999999999999", "whole number")),
    ("workorders.csv", ("append", "WO4,P1,5,2030-03-01,0,"),
     "workorders.csv:5: priority:", ("'0'",)),
    ("workorders.csv", ("append", "WO4,P1,5,2030-03-01,\u0663,"),
     "workorders.csv:5: priority:", ("whole number",)),
    ("routings.csv", ("append", "P2,99999999999999999999,CUT"),
     "routings.csv:5: seq:", ("99999999999999999999",)),
    ("routings.csv", ("append", "P2,-20,CUT"),
     "routings.csv:5: seq:", ("'-20'",)),
    ("workorders.csv", ("append", "WO4,P1,1e20,2030-03-01,3,"),
     "workorders.csv:5: qty:", ("1e20", "not a number")),
    ("workorders.csv", ("append", "WO4,P1,2000000000,2030-03-01,3,"),
     "workorders.csv:5: qty:", ("largest quantity",)),
    ("bom.csv", ("append", "P2,C2,1e308,ASSY"),
     "bom.csv:7: qty_per:", ("1e308",)),
    ("items.csv", ("append", "C4,Bolt,pcs,1234567\u00b2,0,"),
     "items.csv:8: gtin:", ("not a valid GTIN",)),
    ("items.csv", ("append", f"C4,Bolt,pcs,{ARABIC_INDIC_GTIN},0,"),
     "items.csv:8: gtin:", ("not a valid GTIN",)),
    # issue 12: reasons, scanned as REASON:code from the command sheet
    ("reasons.csv", ("append", "WET,Water damage,scrap", "LATE,Came late,delay"),
     "reasons.csv:7: kind:", ("'delay'", "scrap, hold, adjust")),
    ("reasons.csv", ("append", "WET,Water damage,scrap", "DENT,Dented again,scrap"),
     "reasons.csv:7: code:", ("'DENT'", "line 2")),
    ("reasons.csv", ("append", "WET,Water damage,scrap", ",No code,scrap"),
     "reasons.csv:7: code:", ("empty",)),
    ("reasons.csv", ("append", "WET\x1b[2J,Water damage,scrap"),
     "reasons.csv:6: code:", ("\\x1b", "control character")),
    ("reasons.csv", ("append", "W\u200bET,Water damage,scrap"),
     "reasons.csv:6: code:", ("\\u200b", "control character")),
    ("reasons.csv", ("append", "WET PAINT,Paint still wet,scrap"),
     "reasons.csv:6: code:", ("'WET PAINT'", "no spaces")),
    ("reasons.csv", ("append", "ÉCRASÉ,Crushed,scrap"),
     "reasons.csv:6: code:", ("no spaces or accents",)),
    ("reasons.csv", ("append", "A-VERY-LONG-REASON-CODE,Too long,scrap"),
     "reasons.csv:6: code:", ("at most 16",)),
    ("reasons.csv", ("append", "WET,,scrap"),
     "reasons.csv:6: description:", ("empty",)),
]  # fmt: skip


def _spoil(plant: Path, name: str, how: tuple[str, ...]) -> None:
    if how[0] == "replace":
        _rewrite(plant, name, how[1], how[2])
    else:
        _append(plant, name, *how[1:])


@pytest.mark.parametrize(
    ("name", "how", "message", "words"), BAD_ROWS, ids=[f"{b[0]}:{b[2]}" for b in BAD_ROWS]
)
def test_a_bad_row_names_file_line_and_column_and_changes_nothing(
    db_path: Path,
    plant: Path,
    name: str,
    how: tuple[str, ...],
    message: str,
    words: tuple[str, ...],
) -> None:
    assert run("import", "--db", str(db_path), str(PLANT_DIR)).exit_code == 0
    _spoil(plant, name, how)
    before = dump(db_path)
    result = run("import", "--db", str(db_path), KIND_OF[name], str(plant / name))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: {message}"), result.stderr
    for word in words:
        assert word in result.stderr
    assert "nothing was loaded" in result.stderr
    assert dump(db_path) == before


@pytest.mark.parametrize(
    ("name", "how", "message", "words"),
    [b for b in BAD_ROWS if b[0] in ("workorders.csv", "stations.csv", "reasons.csv")],
)
def test_a_bad_row_in_a_directory_loads_none_of_the_files(
    db_path: Path,
    plant: Path,
    name: str,
    how: tuple[str, ...],
    message: str,
    words: tuple[str, ...],
) -> None:
    """The late files (stations, work orders, reasons) fail after every earlier file was read."""
    _spoil(plant, name, how)
    before = dump(db_path)
    result = run("import", "--db", str(db_path), str(plant))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {message}"), result.stderr
    assert dump(db_path) == before
    assert counts(db_path) == dict.fromkeys(COUNTS, 0)


def test_unknown_kind_and_missing_directory_are_refused(db_path: Path, tmp_path: Path) -> None:
    before = dump(db_path)
    result = run("import", "--db", str(db_path), "parts", str(PLANT_DIR / "items.csv"))
    assert result.exit_code == 1
    assert "unknown kind 'parts'" in result.stderr
    result = run("import", "--db", str(db_path), str(tmp_path / "nowhere"))
    assert result.exit_code == 1
    assert "not a directory" in result.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run("import", "--db", str(db_path), str(empty))
    assert result.exit_code == 1
    assert "none of locations.csv" in result.stderr
    assert dump(db_path) == before


def test_a_file_with_a_bom_header_and_blank_lines_imports(db_path: Path, tmp_path: Path) -> None:
    """Excel's UTF-8 CSV starts with a byte-order mark; blank lines are skipped."""
    path = tmp_path / "locations.csv"
    path.write_bytes(
        b"\xef\xbb\xbfcode , name,kind\r\nR1,Dock,receiving\r\n\r\nS9,Bin 9,storeroom\r\n"
    )
    result = run("import", "--db", str(db_path), "locations", str(path))
    assert result.exit_code == 0, result.output
    assert query(db_path, "SELECT code, barcode FROM locations ORDER BY code") == [
        ("R1", "R1"),
        ("S9", "S9"),
    ]


def test_a_file_that_is_not_utf8_is_refused(db_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_bytes(b"sku,description\nK1,Kugellager \xfc\n")
    before = dump(db_path)
    result = run("import", "--db", str(db_path), "items", str(path))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: items.csv:2: -: not UTF-8 text")
    assert dump(db_path) == before


def test_a_bad_byte_deep_in_a_long_file_is_named_by_its_line(db_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "locations.csv"
    rows = b"".join(b"L%05d,Bin %05d,storeroom\n" % (n, n) for n in range(3000))
    path.write_bytes(b"code,name,kind\n" + rows + b"BAD,Bin \xfc,storeroom\n")
    before = dump(db_path)
    result = run("import", "--db", str(db_path), "locations", str(path))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: locations.csv:3002: -: not UTF-8 text")
    assert dump(db_path) == before
