"""What a supervisor does from the command line (issue 12 item 5): hold, release and
cancel with the app's role rules, and the inbox's list of scans waiting for a decision."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from db import inbox
from db.pipeline import process_scan
from tests.plant import plant_db
from tui.cli import cli

pytestmark = pytest.mark.timeout(60)


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def floor(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "floor.db"
    plant_db(path).close()
    yield path


def status_of(path: Path, number: str) -> tuple[str, int]:
    """The order's status and how many status changes it has."""
    conn = sqlite3.connect(path)
    try:
        status = conn.execute("SELECT status FROM work_orders WHERE number = ?", (number,))
        changes = conn.execute(
            "SELECT COUNT(*) FROM status_changes WHERE work_order = ?", (number,)
        )
        return str(status.fetchone()[0]), int(changes.fetchone()[0])
    finally:
        conn.close()


def test_hold_and_release_need_a_supervisor_and_keep_who_and_why(floor: Path) -> None:
    db = ("--db", str(floor))
    before = status_of(floor, "WO1")
    refused = invoke("hold", "WO1", "--reason", "paint check", "--badge", "B-OP", *db)
    assert refused.exit_code == 1
    assert "Otto Operator is operator" in refused.stderr and "WO1 is unchanged" in refused.stderr
    assert status_of(floor, "WO1") == before

    held = invoke("hold", "WO1", "--reason", "paint check", "--badge", "B-SUP", "--json", *db)
    assert held.exit_code == 0, held.output
    answer = json.loads(held.stdout)
    assert (answer["old_status"], answer["new_status"], answer["by"]) == (
        before[0], "on_hold", "B-SUP",
    )  # fmt: skip
    conn = sqlite3.connect(floor)
    kept = conn.execute(
        "SELECT by_operator, reason FROM status_changes WHERE work_order = 'WO1' "
        "ORDER BY id DESC LIMIT 1"
    ).fetchone()
    conn.close()
    assert kept == ("B-SUP", "paint check")

    released = invoke("release", "WO1", "--badge", "B-SUP", *db)
    assert released.exit_code == 0 and released.stdout == f"work order WO1: on hold → {before[0]}\n"
    again = invoke("release", "WO1", "--badge", "B-SUP", *db)
    assert again.exit_code == 1 and "not on hold" in again.stderr


def test_cancel_says_why_or_is_refused(floor: Path) -> None:
    db = ("--db", str(floor))
    no_reason = invoke("cancel", "WO3", "--badge", "B-SUP", *db)
    assert no_reason.exit_code == 2 and "--reason" in no_reason.stderr
    coordinator = invoke("cancel", "WO3", "--reason", "customer", "--badge", "B-COORD", *db)
    assert coordinator.exit_code == 1 and "coordinator" in coordinator.stderr
    assert status_of(floor, "WO3")[0] != "cancelled"
    done = invoke("cancel", "WO3", "--reason", "customer withdrew", "--badge", "B-SUP", *db)
    assert done.exit_code == 0 and status_of(floor, "WO3")[0] == "cancelled"
    unknown = invoke("cancel", "WO-NONE", "--reason", "x", "--badge", "B-SUP", *db)
    assert unknown.exit_code == 1 and "WO-NONE" in unknown.stderr


def test_scans_inbox_lists_what_waits_for_a_supervisor(floor: Path) -> None:
    conn = sqlite3.connect(floor, isolation_level=None)
    conn.row_factory = sqlite3.Row
    process_scan(conn, "RECV", b"B-STORE")
    unknown = process_scan(conn, "RECV", b"NO-SUCH-LABEL").scan_id
    process_scan(conn, "STORES", b"B-STORE")
    other = process_scan(conn, "STORES", b"ALSO-UNKNOWN").scan_id
    db = ("--db", str(floor))
    rows = json.loads(invoke("scans", "--inbox", "--json", *db).stdout)
    assert [r["id"] for r in rows] == [other, unknown]  # newest first
    assert rows[1]["station"] == "RECV" and rows[1]["raw"] == "NO-SUCH-LABEL"
    assert "unknown" in rows[1]["reason"]
    only = json.loads(invoke("scans", "--inbox", "--station", "RECV", "--json", *db).stdout)
    assert [r["id"] for r in only] == [unknown]
    inbox.dismiss_scan(conn, unknown, by="B-SUP", note="test label")
    conn.close()
    rows = json.loads(invoke("scans", "--inbox", "--json", *db).stdout)
    assert [r["id"] for r in rows] == [other]
    mixed = invoke("scans", "--inbox", "--status", "accepted", *db)
    assert mixed.exit_code == 2 and "--inbox" in mixed.stderr
