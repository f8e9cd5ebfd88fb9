"""The `shopfloor` command line (SPEC §6): JSON shapes, `check`, `init --demo`, `--db`.

The record is built through db.ledger at known times, then read back through the
command exactly as a script would (`--json`) and compared value by value.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from db import ledger, progress, supervision
from db.connection import clock
from db.ledger import Origin
from db.pipeline import ScanInput, process_batch
from tests.plant import EPOCH_MS, plant_db
from tui.cli import cli

pytestmark = pytest.mark.timeout(60)

STATUS_KEYS = [
    "number", "product", "qty", "due", "status", "stages", "completed", "late",
    "projected_finish", "risk", "idle", "holding_stage",
]  # fmt: skip
STAGE_KEYS = ["seq", "stage", "done", "scrap"]
STOCK_KEYS = ["item", "location", "lot", "qty"]
MOVEMENT_KEYS = [
    "id", "time", "kind", "item", "lot", "qty", "from_location", "to_location", "work_order",
    "stage", "operator", "station", "reverses",
]  # fmt: skip
SCAN_KEYS = ["id", "time", "source", "station", "raw", "status", "message"]


def minute(n: int) -> int:
    return EPOCH_MS + n * 60_000


def iso(n: int) -> str:
    return f"2026-01-01T00:{n:02d}:00.000Z"


class Stamp:
    """A settable clock: every entry of one posting carries the same time."""

    def __init__(self) -> None:
        self.ms = EPOCH_MS

    def at(self, n: int) -> Stamp:
        self.ms = minute(n)
        return self

    def __call__(self) -> int:
        return self.ms


def invoke(*args: str, env: dict[str, str | None] | None = None) -> Result:
    return CliRunner(env=env).invoke(cli, list(args), catch_exceptions=False)


def as_json(*args: str) -> Any:
    result = invoke(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def floor(tmp_path: Path) -> Iterator[Path]:
    """The test plant with a short, known history (see the expectations below)."""
    path = tmp_path / "floor.db"
    conn = plant_db(path)
    stamp = Stamp()
    store = Origin(operator="B-STORE", station="RECV")
    cell = Origin(operator="B-OP", station="CUT-1")
    with clock(stamp):
        ledger.receive(conn, "C1", 10_000, "S1", origin=store)  # 1
        stamp.at(1)
        ledger.receive(conn, "C2", 5_000, "S1", lot="L1", origin=store)  # 2
        stamp.at(2)
        ledger.issue(conn, "WO1", "C1", 5_000, "S1", origin=Origin(operator="B-STORE"))  # 3
        stamp.at(3)
        progress.report_progress(conn, "WO1", "CUT", 4_000, origin=cell)  # 4: consumes 2 C1
        stamp.at(4)
        progress.report_progress(conn, "WO1", "CUT", 1_000, kind="scrap", origin=cell)
        stamp.at(5)
        moved = ledger.transfer(conn, "C1", 500, "S1", "S2")  # 5
        stamp.at(6)
        ledger.reverse_movement(conn, moved, origin=Origin(operator="B-SUP"))  # 6
        stamp.at(7)
        progress.report_progress(conn, "WO2", "CUT", None)
        stamp.at(8)
        progress.report_progress(conn, "WO2", "ASSY", None)  # 7: produces 2.5 P1
        stamp.at(9)
        ledger.ship(conn, "P1", 1_000, origin=Origin(operator="B-STORE", station="STORES"))  # 8
        stamp.at(10)
        supervision.change_due_date(conn, "WO1", "2020-06-01", by="B-COORD", reason="steel late")
    conn.close()
    yield path


def forecast_of(row: dict[str, Any]) -> dict[str, Any]:
    return {key: row[key] for key in ("projected_finish", "risk", "idle", "holding_stage")}


def test_status_json(floor: Path) -> None:
    rows = as_json("status", "--db", str(floor))
    assert [list(r) for r in rows] == [STATUS_KEYS] * 3
    assert all(list(s) == STAGE_KEYS for r in rows for s in r["stages"])
    assert rows == [
        {"number": "WO2", "product": "P1", "qty": 2.5, "due": "2020-01-10", "status": "done",
         "stages": [{"seq": 10, "stage": "CUT", "done": 2.5, "scrap": 0},
                    {"seq": 20, "stage": "ASSY", "done": 2.5, "scrap": 0}],
         "completed": 2.5, "late": False,
         "projected_finish": None, "risk": None, "idle": False, "holding_stage": None},
        {"number": "WO1", "product": "P1", "qty": 10, "due": "2020-06-01",
         "status": "in_progress",
         "stages": [{"seq": 10, "stage": "CUT", "done": 4, "scrap": 1},
                    {"seq": 20, "stage": "ASSY", "done": 0, "scrap": 0}],
         "completed": 0, "late": True, **forecast_of(rows[1])},
        {"number": "WO3", "product": "P2", "qty": 4, "due": "2030-02-01", "status": "released",
         "stages": [{"seq": 10, "stage": "ASSY", "done": 0, "scrap": 0}],
         "completed": 0, "late": False, **forecast_of(rows[2])},
    ]  # fmt: skip
    # The forecast runs on the wall clock here (tests/tui/test_cli_forecast.py has its
    # figures): the late order is late, the one due in 2030 on track.
    assert (rows[1]["risk"], rows[2]["risk"]) == ("late", "on_track")
    for row in rows[1:]:
        assert datetime.fromisoformat(row["projected_finish"]).tzinfo is not None
    assert [r["number"] for r in as_json("status", "--db", str(floor), "--open")] == [
        "WO1",
        "WO3",
    ]
    assert [r["number"] for r in as_json("status", "--db", str(floor), "--order", "WO3")] == ["WO3"]
    human = invoke("status", "--db", str(floor))
    assert human.exit_code == 0
    assert "LATE" in human.stdout and "CUT:4 ASSY:0" in human.stdout


def test_stock_json_lists_non_zero_rows(floor: Path) -> None:
    rows = as_json("stock", "--db", str(floor))
    assert all(list(r) == STOCK_KEYS for r in rows)
    # C1 at S2 went there and back: zero, so not listed.
    assert rows == [
        {"item": "C1", "location": "S1", "lot": None, "qty": 5},
        {"item": "C1", "location": "W-CUT", "lot": None, "qty": 3},
        {"item": "C2", "location": "S1", "lot": "L1", "qty": 5},
        {"item": "P1", "location": "FG", "lot": None, "qty": 1.5},
    ]
    assert as_json("stock", "--db", str(floor), "--item", "C1", "--location", "W-CUT") == [
        {"item": "C1", "location": "W-CUT", "lot": None, "qty": 3}
    ]
    human = invoke("stock", "--db", str(floor)).stdout.splitlines()
    assert human[0].split() == ["item", "location", "lot", "qty"]
    assert human[-1].split() == ["P1", "FG", "1.5"]


def test_movements_json(floor: Path) -> None:
    rows = as_json("movements", "--db", str(floor))
    assert all(list(r) == MOVEMENT_KEYS for r in rows)

    def mv(n: int, t: int, kind: str, item: str, qty: float, frm: str | None, to: str | None,
           lot: str | None = None, wo: str | None = None, stage: str | None = None,
           op: str | None = None, station: str | None = None,
           reverses: int | None = None) -> dict[str, Any]:  # fmt: skip
        return {
            "id": n, "time": iso(t), "kind": kind, "item": item, "lot": lot, "qty": qty,
            "from_location": frm, "to_location": to, "work_order": wo, "stage": stage,
            "operator": op, "station": station, "reverses": reverses,
        }  # fmt: skip

    assert rows == [
        mv(1, 0, "receive", "C1", 10, None, "S1", op="B-STORE", station="RECV"),
        mv(2, 1, "receive", "C2", 5, None, "S1", lot="L1", op="B-STORE", station="RECV"),
        mv(3, 2, "issue", "C1", 5, "S1", "W-CUT", wo="WO1", stage="CUT", op="B-STORE"),
        mv(4, 3, "consume", "C1", 2, "W-CUT", None, wo="WO1", stage="CUT", op="B-OP",
           station="CUT-1"),
        mv(5, 5, "transfer", "C1", 0.5, "S1", "S2"),
        mv(6, 6, "transfer", "C1", 0.5, "S2", "S1", op="B-SUP", reverses=5),
        mv(7, 8, "produce", "P1", 2.5, None, "FG", wo="WO2", stage="ASSY"),
        mv(8, 9, "ship", "P1", 1, "FG", None, op="B-STORE", station="STORES"),
    ]  # fmt: skip
    assert [r["id"] for r in as_json("movements", "--db", str(floor), "--limit", "2")] == [7, 8]
    assert [r["id"] for r in as_json("movements", "--db", str(floor), "--order", "WO1")] == [3, 4]
    assert [r["id"] for r in as_json("movements", "--db", str(floor), "--item", "P1")] == [7, 8]


def test_scans_json(tmp_path: Path) -> None:
    path = tmp_path / "floor.db"
    conn = plant_db(path)
    lines = [b"B-STORE", b"C1", b"NOPE", b"\xffC1"]
    results = process_batch(
        conn,
        [ScanInput(station="RECV", raw=raw, source="command", at_ms=minute(n + 1))
         for n, raw in enumerate(lines)],
    )  # fmt: skip
    conn.close()
    rows = as_json("scans", "--db", str(path))
    assert all(list(r) == SCAN_KEYS for r in rows)
    assert [r.status for r in results] == ["accepted", "accepted", "rejected", "rejected"]
    assert rows == [
        {"id": n + 1, "time": iso(n + 1), "source": "command", "station": "RECV",
         "raw": raw, "status": result.status, "message": result.message}
        for n, (raw, result) in enumerate(
            zip(["B-STORE", "C1", "NOPE", "\\xffC1"], results, strict=True)
        )
    ]  # fmt: skip
    assert "NOPE" in rows[2]["message"]
    # The accepted item scan posted a receipt at the station's location, signed by the badge.
    [receipt] = as_json("movements", "--db", str(path))
    assert {k: receipt[k] for k in ("kind", "item", "qty", "to_location", "operator",
                                    "station")} == {
        "kind": "receive", "item": "C1", "qty": 1, "to_location": "RCV", "operator": "B-STORE",
        "station": "RECV",
    }  # fmt: skip
    rejected = as_json("scans", "--db", str(path), "--status", "rejected")
    assert [r["id"] for r in rejected] == [3, 4]
    assert [r["id"] for r in as_json("scans", "--db", str(path), "--limit", "1")] == [4]


def test_scan_command_exits_1_when_a_scan_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "floor.db"
    plant_db(path).close()
    good = invoke("scan", "--db", str(path), "--station", "RECV", "B-STORE", "C1", "--json")
    assert good.exit_code == 0, good.output
    assert [r["status"] for r in json.loads(good.stdout)] == ["accepted", "accepted"]
    bad = invoke("scan", "--db", str(path), "--station", "RECV", "NOPE")
    assert bad.exit_code == 1
    assert as_json("stock", "--db", str(path)) == [
        {"item": "C1", "location": "RCV", "lot": None, "qty": 1}
    ]


# ---------------------------------------------------------------- check


def test_check_passes_on_a_good_database(floor: Path) -> None:
    result = invoke("check", "--db", str(floor))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "checked 8 movements and 4 progress entries",
        "ok: every total equals its entries",
    ]
    assert as_json("check", "--db", str(floor)) == {
        "ok": True, "movements": 8, "progress_entries": 4, "differences": [], "warnings": [],
    }  # fmt: skip


TAMPERS: list[tuple[str, str]] = [
    ("UPDATE stock SET qty_milli = qty_milli + 1000 WHERE item = 'C1' AND location = 'S1'",
     "stock C1 at S1: movements sum to 5, stock says 6"),
    ("DELETE FROM stock WHERE item = 'C2'",
     "stock C2 lot L1 at S1: movements sum to 5, stock says 0"),
    ("INSERT INTO stock (item, location, lot, qty_milli) VALUES ('X1', 'S2', '', 7000)",
     "stock X1 at S2: movements sum to 0, stock says 7"),
    ("UPDATE work_order_stages SET done_milli = 5000 WHERE work_order = 'WO1' AND seq = 10",
     "progress WO1 stage 10 CUT: entries say done 4 scrap 1, totals say done 5 scrap 1"),
    ("UPDATE work_order_materials SET consumed_milli = 0",
     "material C1 held for WO1: entries say issued 5/returned 0/consumed 2, totals say 5/0/0"),
    ("UPDATE work_orders SET board_stages = 'CUT' WHERE number = 'WO1'",
     "work order WO1: the board's stages columns disagree"),
    ("INSERT INTO scan_journal (time_ms, source, station, raw, raw_length) "
     "VALUES (0, 'serial', 'RECV', X'41', 1)",
     "1 journaled scans have no outcome"),
]  # fmt: skip


@pytest.mark.parametrize(("sql", "difference"), TAMPERS)
def test_check_fails_and_names_a_tampered_total(floor: Path, sql: str, difference: str) -> None:
    conn = sqlite3.connect(floor)
    conn.execute(sql)  # stock and the other totals are not append-only: a hand edit is possible
    conn.commit()
    conn.close()
    result = invoke("check", "--db", str(floor))
    assert result.exit_code == 1
    assert f"DIFFERENCE: {difference}" in result.stdout.splitlines()
    assert result.stdout.rstrip().endswith("FAILED")
    report = json.loads(invoke("check", "--db", str(floor), "--json").stdout)
    assert report["ok"] is False
    assert report["differences"] == [difference]


# ---------------------------------------------------------------- init, --db


def test_init_demo_builds_the_demo_plant(tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    result = invoke("init", "--demo", "--db", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"created {path} with demo plant"
    orders = as_json("status", "--db", str(path))
    assert len(orders) == 40
    assert {o["status"] for o in orders} == {
        "released", "in_progress", "on_hold", "done", "cancelled",
    }  # fmt: skip
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT COUNT(*) FROM items").fetchone()[0] == 60
    assert conn.execute("SELECT COUNT(*) FROM stages").fetchone()[0] >= 5
    assert conn.execute("SELECT COUNT(*) FROM movements").fetchone()[0] > 100
    conn.close()
    assert invoke("check", "--db", str(path)).exit_code == 0
    again = invoke("init", "--demo", "--db", str(path))
    assert again.exit_code == 1
    assert "already holds a plant" in again.output
    assert invoke("init", "--db", str(path)).stdout.strip() == f"migrated {path}"


def test_db_defaults_to_the_shopfloor_db_environment_variable(tmp_path: Path) -> None:
    path = tmp_path / "from-env.db"
    env: dict[str, str | None] = {"SHOPFLOOR_DB": str(path)}
    assert invoke("init", env=env).exit_code == 0
    assert path.exists()
    plant = Path(__file__).parent.parent / "plant"
    assert invoke("import", str(plant), env=env).exit_code == 0
    result = invoke("status", "--json", env=env)
    assert [r["number"] for r in json.loads(result.stdout)] == ["WO2", "WO1", "WO3"]
    # --db still wins over the environment.
    other = tmp_path / "other.db"
    assert invoke("init", "--db", str(other), env=env).exit_code == 0
    assert json.loads(invoke("status", "--json", "--db", str(other), env=env).stdout) == []


def test_db_defaults_to_shopfloor_db_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    env: dict[str, str | None] = {"SHOPFLOOR_DB": None}
    assert invoke("init", env=env).exit_code == 0
    assert (tmp_path / "shopfloor.db").exists()


def test_a_report_on_a_missing_database_says_how_to_create_it(tmp_path: Path) -> None:
    path = tmp_path / "typo.db"
    for command in ("status", "stock", "movements", "scans", "check"):
        result = invoke(command, "--db", str(path))
        assert result.exit_code == 1
        assert f"run `shopfloor init --db {path}` first" in result.output
    assert not path.exists()


def test_init_creates_a_file_that_is_not_world_readable(tmp_path: Path) -> None:
    old_mask = os.umask(0)  # even a careless umask must not open the file to others
    try:
        for args in (["init"], ["init", "--demo"]):
            path = tmp_path / f"{len(args)}.db"
            assert invoke(*args, "--db", str(path)).exit_code == 0
            mode = stat.S_IMODE(path.stat().st_mode)
            assert mode & 0o077 == 0, oct(mode)
        # Only init creates a database: an import into a missing file is refused.
        path = tmp_path / "imported.db"
        plant = Path(__file__).parent.parent / "plant"
        assert invoke("import", "--db", str(path), str(plant)).exit_code == 1
        assert not path.exists()
    finally:
        os.umask(old_mask)
