"""Reasons (issue 12 item 2): reasons.csv into the record, REASON:code on the command sheet,
the grammar's reason for the next scrap or count adjustment, holds with a reason, and
the migration that records them.

On the small plant of tests/plant (reasons DENT and BURR for scrap, QA for holds,
MISCOUNT for adjustments), through `process_scan` on a real database file.
"""

from __future__ import annotations

import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from db import ledger, reason_codes, roles
from db.connection import connect
from db.documents import command_sheet
from db.ledger import Origin
from db.masterdata import import_file
from db.pipeline import ScanResult, process_scan
from db.refusals import LedgerError
from db.sessions import load_session
from db.supervision import set_hold
from devices.labels import command_sheet_pdf
from tests.label_reading import tool, zbar
from tests.plant import REASONS, plant_db
from tui.cli import cli

pytestmark = pytest.mark.timeout(60)

STORE = Origin(operator="B-STORE", station="RECV")
NO_REASON = "scan a REASON: for the scrap from the command sheet"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """The plant with 100 sheets of C1 in S1 and 20 in the cutting WIP bin."""
    path = tmp_path / "floor.db"
    conn = plant_db(path)
    ledger.receive(conn, "C1", 100_000, "S1", origin=STORE)
    ledger.receive(conn, "C1", 20_000, "W-CUT", origin=STORE)
    conn.close()
    return path


@pytest.fixture
def conn(db_path: Path) -> Iterator[sqlite3.Connection]:
    connection = connect(db_path)
    yield connection
    connection.close()


def scan(conn: sqlite3.Connection, station: str, *codes: str) -> list[ScanResult]:
    return [process_scan(conn, station, code.encode()) for code in codes]


def accept(conn: sqlite3.Connection, station: str, *codes: str) -> list[ScanResult]:
    results = scan(conn, station, *codes)
    for code, result in zip(codes, results, strict=True):
        assert result.status == "accepted", (code, result.message)
    return results


def refused(conn: sqlite3.Connection, station: str, code: str) -> ScanResult:
    [result] = scan(conn, station, code)
    assert result.status == "rejected", result.message
    return result


def session_reason(conn: sqlite3.Connection, station: str) -> str | None:
    row = conn.execute("SELECT reason FROM station_sessions WHERE station = ?", (station,))
    return row.fetchone()[0]  # type: ignore[no-any-return]


def last_movement(conn: sqlite3.Connection) -> sqlite3.Row:
    return conn.execute("SELECT * FROM movements ORDER BY id DESC LIMIT 1").fetchone()  # type: ignore[no-any-return]


def postings(conn: sqlite3.Connection) -> tuple[int, int]:
    return (
        conn.execute("SELECT COUNT(*) FROM movements").fetchone()[0],
        conn.execute("SELECT COUNT(*) FROM progress_entries").fetchone()[0],
    )


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


# ---------------------------------------------------------------- import


def test_the_plants_reasons_are_imported_and_a_new_file_updates_them(
    conn: sqlite3.Connection, tmp_path: Path
) -> None:
    rows = conn.execute("SELECT code, kind FROM reasons ORDER BY code").fetchall()
    assert dict((r["code"], r["kind"]) for r in rows) == REASONS
    again = tmp_path / "reasons.csv"
    again.write_text(
        "code,description,kind\nDENT,Dented by the forklift,scrap\nQA,Quality hold,HOLD\n"
        "WET,Water in the paint,scrap\n",
        encoding="utf-8",
    )
    assert import_file(conn, "reasons", again).rows == 3
    found = {r.code: (r.description, r.kind) for r in reason_codes.plant_reasons(conn)}
    assert found["DENT"] == ("Dented by the forklift", "scrap")
    assert found["QA"] == ("Quality hold", "hold")  # a kind in capitals is the same kind
    assert found["WET"] == ("Water in the paint", "scrap")
    assert found["MISCOUNT"] == ("Earlier count was wrong", "adjust")  # kept: not deleted
    # The sheet's order: scrap, hold, adjust, each by code.
    assert [r.code for r in reason_codes.plant_reasons(conn)] == [
        "BURR", "DENT", "WET", "QA", "MISCOUNT",
    ]  # fmt: skip


# ---------------------------------------------------------------- the grammar


def test_a_reason_is_set_for_the_next_scrap_kept_across_a_restart_and_shown(
    conn: sqlite3.Connection,
) -> None:
    accept(conn, "STORES", "B-STORE", "CMD:MODE:SCRAP")
    [result] = accept(conn, "STORES", "REASON:DENT")
    assert result.message == "reason DENT (Dented in handling) for the next scrap"
    assert "(reason DENT)" in result.prompt
    assert session_reason(conn, "STORES") == "DENT"
    kept = load_session(conn, "STORES")
    assert kept is not None and kept.reason == "DENT"


def test_a_scrap_without_a_reason_is_refused_and_posts_nothing(conn: sqlite3.Connection) -> None:
    accept(conn, "STORES", "B-STORE", "CMD:MODE:SCRAP")
    assert "Scan a REASON: for the scrap first" in scan(conn, "STORES", "CMD:CANCEL")[0].prompt
    before = postings(conn)
    item = refused(conn, "STORES", "C1")
    assert NO_REASON in item.message and "BURR, DENT" in item.message
    assert "nothing was posted" in item.message
    accept(conn, "CUT-1", "B-OP", "CMD:MODE:SCRAP", "WO1", "QTY:2")
    done = refused(conn, "CUT-1", "CMD:DONE")
    assert NO_REASON in done.message
    assert postings(conn) == before
    # The context stays: the reason scanned now, the same CMD:DONE posts.
    [scrapped] = accept(conn, "CUT-1", "REASON:BURR", "CMD:DONE")[1:]
    assert scrapped.message == "scrapped 2 of WO1 at CUT (reason BURR)"
    entry = conn.execute("SELECT kind, qty_milli, reason FROM progress_entries").fetchone()
    assert tuple(entry) == ("scrap", 2_000, "BURR")
    [material] = accept(conn, "STORES", "REASON:DENT", "QTY:3", "C1")[2:]
    assert material.message == "scrapped 3 C1 from S1 (reason DENT)"
    moved = last_movement(conn)
    assert (moved["kind"], moved["qty_milli"], moved["to_location"], moved["reason"]) == (
        "scrap", 3_000, "SCRAP", "DENT",
    )  # fmt: skip


def test_the_ledgers_own_refusal_comes_before_the_missing_reason(
    conn: sqlite3.Connection,
) -> None:
    accept(conn, "STORES", "B-STORE", "CMD:MODE:SCRAP", "LOC-S2")
    empty = refused(conn, "STORES", "C1")
    assert "no C1 in S2 on record" in empty.message and "REASON" not in empty.message


def test_a_reason_is_used_once(conn: sqlite3.Connection) -> None:
    accept(conn, "STORES", "B-STORE", "CMD:MODE:SCRAP", "REASON:DENT", "C1")
    assert session_reason(conn, "STORES") is None
    assert NO_REASON in refused(conn, "STORES", "C1").message
    accept(conn, "CUT-1", "B-OP", "CMD:MODE:SCRAP", "WO1", "REASON:BURR", "QTY:1", "CMD:DONE")
    assert session_reason(conn, "CUT-1") is None
    assert NO_REASON in refused(conn, "CUT-1", "CMD:DONE").message


def test_a_mode_a_cancel_and_a_sign_out_clear_the_reason(conn: sqlite3.Connection) -> None:
    accept(conn, "STORES", "B-STORE", "CMD:MODE:SCRAP", "REASON:DENT", "CMD:CANCEL")
    assert session_reason(conn, "STORES") is None
    accept(conn, "STORES", "REASON:DENT", "CMD:MODE:SCRAP")
    assert session_reason(conn, "STORES") is None
    accept(conn, "STORES", "REASON:DENT", "CMD:SIGNOUT")
    assert session_reason(conn, "STORES") is None


def test_a_count_that_changes_the_balance_needs_a_reason(conn: sqlite3.Connection) -> None:
    accept(conn, "STORES", "B-STORE", "CMD:MODE:COUNT")
    before = postings(conn)
    [same] = accept(conn, "STORES", "QTY:100", "C1")[1:]
    assert same.message.endswith("(matches the record)")
    accept(conn, "STORES", "QTY:97")
    short = refused(conn, "STORES", "C1")
    assert "scan a REASON: for the adjustment from the command sheet" in short.message
    assert "MISCOUNT" in short.message
    assert postings(conn) == before
    [counted] = accept(conn, "STORES", "REASON:MISCOUNT", "C1")[1:]
    assert counted.message.endswith("was 100: −3 adjusted (reason MISCOUNT)")
    moved = last_movement(conn)
    assert (moved["kind"], moved["qty_milli"], moved["reason"]) == ("adjust", 3_000, "MISCOUNT")
    assert session_reason(conn, "STORES") is None
    # A count that matches leaves a scanned reason for the count that does not.
    accept(conn, "STORES", "REASON:MISCOUNT", "QTY:97", "C1")
    assert session_reason(conn, "STORES") == "MISCOUNT"


def test_a_reason_of_the_wrong_kind_names_the_kinds(conn: sqlite3.Connection) -> None:
    accept(conn, "STORES", "B-STORE", "CMD:MODE:SCRAP")
    adjust = refused(conn, "STORES", "REASON:MISCOUNT")
    assert adjust.message.startswith("MISCOUNT is a reason for adjustments, not scraps")
    assert "scrap reasons: BURR, DENT" in adjust.message
    hold = refused(conn, "STORES", "REASON:QA")
    assert hold.message.startswith("QA is a reason for holds, not scraps")
    accept(conn, "STORES", "CMD:MODE:COUNT")
    scrap = refused(conn, "STORES", "REASON:DENT")
    assert scrap.message.startswith("DENT is a reason for scraps, not adjustments")
    assert "adjust reasons: MISCOUNT" in scrap.message
    accept(conn, "STORES", "CMD:MODE:ISSUE")
    issue = refused(conn, "STORES", "REASON:DENT")
    assert "CMD:MODE:SCRAP" in issue.message and "CMD:MODE:COUNT" in issue.message
    assert session_reason(conn, "STORES") is None


def test_an_unknown_reason_says_to_scan_one_from_the_command_sheet(
    conn: sqlite3.Connection,
) -> None:
    accept(conn, "STORES", "B-STORE", "CMD:MODE:SCRAP")
    unknown = refused(conn, "STORES", "REASON:RUST")
    assert unknown.message.startswith("unknown reason 'RUST': scan a reason from the command sheet")
    assert refused(conn, "STORES", "REASON:").message.startswith("unknown reason ''")
    # Codes are what the sheet prints: case counts.
    assert refused(conn, "STORES", "REASON:dent").message.startswith("unknown reason 'dent'")


def test_a_reason_with_nobody_signed_in_is_refused(conn: sqlite3.Connection) -> None:
    result = refused(conn, "STORES", "REASON:DENT")
    assert result.message.startswith("scan your badge first")
    assert session_reason(conn, "STORES") is None


def test_a_supervisor_may_let_scrap_and_adjustments_go_without_a_reason(
    conn: sqlite3.Connection,
) -> None:
    roles.set_setting(conn, roles.REASON_REQUIRED["scrap"], "off")
    roles.set_setting(conn, roles.REASON_REQUIRED["adjust"], "0")
    accept(conn, "STORES", "B-STORE", "CMD:MODE:SCRAP", "C1")
    assert last_movement(conn)["reason"] is None
    accept(conn, "STORES", "CMD:MODE:COUNT", "QTY:50", "C1")
    assert (last_movement(conn)["kind"], last_movement(conn)["reason"]) == ("adjust", None)
    # A setting that is neither on nor off is the default: a reason is needed.
    roles.set_setting(conn, roles.REASON_REQUIRED["scrap"], "perhaps")
    accept(conn, "STORES", "CMD:MODE:SCRAP")
    assert NO_REASON in refused(conn, "STORES", "C1").message


def test_an_undone_scrap_keeps_its_reason(conn: sqlite3.Connection) -> None:
    accept(conn, "STORES", "B-STORE", "CMD:MODE:SCRAP", "REASON:DENT", "QTY:2", "C1")
    accept(conn, "CUT-1", "B-OP", "CMD:MODE:SCRAP", "WO1", "REASON:BURR", "CMD:DONE")
    accept(conn, "CUT-1", "CMD:UNDO")
    accept(conn, "STORES", "CMD:UNDO")
    undone = conn.execute(
        "SELECT kind, reason FROM movements WHERE reverses IS NOT NULL ORDER BY id DESC LIMIT 1"
    ).fetchone()
    assert tuple(undone) == ("scrap", "DENT")
    entry = conn.execute("SELECT reason FROM progress_entries WHERE reverses IS NOT NULL")
    assert entry.fetchone()[0] == "BURR"


# ---------------------------------------------------------------- holds


def test_a_hold_takes_a_hold_reason_or_words_and_never_nothing(conn: sqlite3.Connection) -> None:
    def last_reason() -> str:
        row = conn.execute("SELECT reason FROM status_changes ORDER BY id DESC LIMIT 1")
        return str(row.fetchone()[0])

    with pytest.raises(LedgerError, match=r"say why the order is held \(a hold reason: QA\)"):
        set_hold(conn, "WO1", True, by="B-SUP", reason="  ")
    with pytest.raises(LedgerError, match="DENT is a reason for scraps, not holds"):
        set_hold(conn, "WO1", True, by="B-SUP", reason="DENT")
    with pytest.raises(LedgerError, match="unknown reason 'NOPE'"):
        set_hold(conn, "WO1", True, by="B-SUP", reason="REASON:NOPE")
    assert conn.execute("SELECT COUNT(*) FROM status_changes").fetchone()[0] == 0
    set_hold(conn, "WO1", True, by="B-SUP", reason="QA")
    assert last_reason() == "Held by quality"
    set_hold(conn, "WO1", False, by="B-SUP", reason="")
    set_hold(conn, "WO1", True, by="B-SUP", reason="reason:QA")  # scanned into the field
    assert last_reason() == "Held by quality"
    set_hold(conn, "WO1", False, by="B-SUP", reason="")
    set_hold(conn, "WO1", True, by="B-SUP", reason="paint check first")
    assert last_reason() == "paint check first"


def test_shopfloor_hold_needs_a_reason(db_path: Path) -> None:
    db = ("--db", str(db_path))
    missing = invoke("hold", "WO1", "--badge", "B-SUP", *db)
    assert missing.exit_code == 2 and "--reason" in missing.stderr
    wrong = invoke("hold", "WO1", "--reason", "BURR", "--badge", "B-SUP", *db)
    assert wrong.exit_code == 1 and "BURR is a reason for scraps, not holds" in wrong.stderr
    held = invoke("hold", "WO1", "--reason", "QA", "--badge", "B-SUP", *db)
    assert held.exit_code == 0, held.output
    conn = connect(db_path)
    try:
        kept = conn.execute("SELECT by_operator, reason FROM status_changes").fetchone()
    finally:
        conn.close()
    assert tuple(kept) == ("B-SUP", "Held by quality")
    assert "hold reason" in invoke("hold", "--help").output


# ---------------------------------------------------------------- the command sheet


def test_the_command_sheet_prints_the_plants_reasons_and_they_drive_a_station(
    conn: sqlite3.Connection, db_path: Path, tmp_path: Path
) -> None:
    groups = command_sheet(conn)
    assert [title for title, _ in groups][-1] == "Reasons"
    printed = [label.value for label in groups[-1][1]]
    assert printed == ["REASON:BURR", "REASON:DENT", "REASON:QA", "REASON:MISCOUNT"]
    assert groups[-1][1][0].lines == ("scrap: Burr on the cut edge",)
    # Without the record the sheet has no reasons (there is no plant to ask).
    assert "Reasons" not in [title for title, _ in command_sheet()]
    everything = {label.value for _, labels in groups for label in labels}
    for paper in ("A4", "Letter"):
        folder = tmp_path / paper
        folder.mkdir()
        (folder / "sheet.pdf").write_bytes(command_sheet_pdf(groups, paper))
        args = [tool("pdftoppm", "poppler-utils"), "-r", "200", "-png", "sheet.pdf", "page"]
        subprocess.run(args, check=True, capture_output=True, timeout=120, cwd=folder)
        read = [value for page in sorted(folder.glob("page*.png")) for value in zbar(page)]
        assert sorted(read) == sorted(everything)
    # What the sheet says, scanned, does what it says.
    accept(conn, "STORES", "B-STORE", "CMD:MODE:SCRAP", "REASON:DENT", "C1")
    # `shopfloor labels commands` reads the plant's reasons from --db.
    out = tmp_path / "sheet.pdf"
    made = invoke("labels", "commands", "--db", str(db_path), "--out", str(out))
    assert made.exit_code == 0, made.output
    assert f"({len(everything)} commands)" in made.output
    listed = invoke("labels", "commands", "--list", "--json", "--db", str(db_path))
    assert '"REASON:MISCOUNT"' in listed.output
    one = invoke(
        "labels", "commands", "REASON:DENT", "--db", str(db_path), "--format", "svg",
        "--out", str(tmp_path / "one"),
    )  # fmt: skip
    assert one.exit_code == 0, one.output


def test_a_reason_code_that_fits_the_import_fits_the_sheet(
    conn: sqlite3.Connection, tmp_path: Path
) -> None:
    longest = "X" * reason_codes.MAX_CODE
    (tmp_path / "reasons.csv").write_text(
        f"code,description,kind\n{longest},The longest code the import takes,scrap\n",
        encoding="utf-8",
    )
    import_file(conn, "reasons", tmp_path / "reasons.csv")
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "sheet.pdf").write_bytes(command_sheet_pdf(command_sheet(conn), "Letter"))
    args = [tool("pdftoppm", "poppler-utils"), "-r", "200", "-png", "sheet.pdf", "page"]
    subprocess.run(args, check=True, capture_output=True, timeout=120, cwd=pages)
    read = [value for page in sorted(pages.glob("page*.png")) for value in zbar(page)]
    assert f"REASON:{longest}" in read


# ---------------------------------------------------------------- the record


def test_a_database_of_schema_9_gets_its_reasons_and_history_stays_append_only(
    tmp_path: Path,
) -> None:
    from sqlite_utils import Database

    from db import schema
    from db.masterdata import import_dir
    from tests.plant import PLANT_DIR

    path = tmp_path / "old.db"
    old_file = connect(path)
    old = schema.migrations()
    old._migrations = old._migrations[:9]  # m001..m009: before reasons
    old.apply(Database(old_file))
    old_file.execute("PRAGMA user_version = 9")
    # A plant with a history of its own: a movement posted before reasons existed.
    old_file.execute("INSERT INTO locations VALUES ('OLD', 'Old bin', 'storeroom', 'OLD')")
    old_file.execute("INSERT INTO items (sku, description, barcode) VALUES ('OI', 'Old', 'OI')")
    old_file.execute(
        "INSERT INTO movements (time_ms, kind, item, qty_milli, to_location) "
        "VALUES (1, 'receive', 'OI', 1000, 'OLD')"
    )
    old_file.commit()
    old_file.close()
    upgraded = schema.init_db(path)
    assert upgraded.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
    assert [tuple(r) for r in upgraded.execute("SELECT item, reason FROM movements")] == [
        ("OI", None)
    ]
    import_dir(upgraded, PLANT_DIR)
    assert upgraded.execute("SELECT COUNT(*) FROM reasons").fetchone()[0] == len(REASONS)
    movement = ledger.receive(upgraded, "C1", 1_000, "S1", origin=STORE)
    for sql in (
        "UPDATE movements SET reason = 'DENT' WHERE id = ?",
        "DELETE FROM movements WHERE id = ?",
    ):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            upgraded.execute(sql, (movement,))
    with pytest.raises(sqlite3.IntegrityError):
        upgraded.execute("INSERT INTO reasons VALUES ('LOST', 'Lost', 'vanish')")
    upgraded.close()
