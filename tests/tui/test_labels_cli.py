"""`shopfloor labels` and the app's print keys, on the demo plant, read back by a real decoder.

Everything printed is rasterised (PDF through poppler's pdftoppm at 200 dpi, as a
printer driver would) and read by zbar with only Code 128 enabled, then the values
read are fed back through the station pipeline: the paper drives the floor. Printing
goes to a socket this test owns and to a fake `lp` on PATH.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import stat
import subprocess
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from PIL import Image

from db import documents
from db.connection import connect, write
from db.documents import command_sheet
from db.orders import order_detail
from db.pipeline import ScanInput, process_batch
from db.quantity import from_milli
from devices.decode import decode
from devices.labels import traveler_pages
from devices.labels.files import file_names, safe_name
from tests.conftest import TODAY, fixed_now, settle, wait_until
from tests.label_reading import tool, zbar
from tui.app import create_app
from tui.cli import cli
from tui.screens.board import BoardScreen
from tui.screens.stock import StockScreen

pytestmark = pytest.mark.timeout(60)

COMMANDS = {label.value for _, labels in command_sheet() for label in labels}
# BOX-L's label carries an ERP barcode that is not its sku (set by `plant` below).
BOX_L_BARCODE = "CTN-L-0042"


# ---------------------------------------------------------------- helpers


def pdf_pages(pdf: Path) -> list[Path]:
    """The PDF's pages as 200 dpi PNGs, in page order."""
    folder = pdf.parent / f"{pdf.stem}-pages"
    folder.mkdir()
    args = [tool("pdftoppm", "poppler-utils"), "-r", "200", "-png", str(pdf), str(folder / "p")]
    subprocess.run(args, check=True, capture_output=True, timeout=120)
    return sorted(folder.glob("p*.png"))


def read_pdf(pdf: Path) -> list[list[str]]:
    """What zbar reads on each page of the PDF."""
    return [zbar(page) for page in pdf_pages(pdf)]


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["labels", *args], catch_exceptions=False)


@pytest.fixture
def plant(demo_db: str) -> str:
    """The demo plant, where carton BOX-L is labelled with an ERP barcode, not its sku."""
    conn = connect(demo_db)
    with write(conn):
        conn.execute("UPDATE items SET barcode = ? WHERE sku = 'BOX-L'", (BOX_L_BARCODE,))
        conn.execute(
            "UPDATE barcodes SET value = ? WHERE kind = 'item' AND code = 'BOX-L'",
            (BOX_L_BARCODE,),
        )
    conn.close()
    return demo_db


@pytest.fixture
def db(plant: str) -> Iterator[sqlite3.Connection]:
    conn = connect(plant)
    yield conn
    conn.close()


def open_cart_order(db: sqlite3.Connection) -> str:
    """An open tool-cart order: its bill holds SCR-M6X16 (a GTIN) and BOX-L (ERP barcode)."""
    row = db.execute(
        "SELECT number FROM work_orders WHERE product = 'CART-TL' "
        "AND status IN ('released', 'in_progress') ORDER BY number LIMIT 1"
    ).fetchone()
    assert row is not None
    return str(row["number"])


def still_to_issue(db: sqlite3.Connection, number: str) -> dict[str, str]:
    """Each bill line's item barcode → the `QTY:` of what the order screen says is still
    to issue for it (lines fully issued left out)."""
    detail = order_detail(db, number)
    assert detail is not None
    barcodes = dict(db.execute("SELECT sku, barcode FROM items").fetchall())
    return {
        barcodes[line.item]: f"QTY:{from_milli(line.short_milli)}"
        for line in detail.materials
        if line.short_milli > 0
    }


def expected_traveler_codes(db: sqlite3.Connection, number: str) -> set[str]:
    rows = db.execute(
        "SELECT i.barcode FROM work_orders w JOIN bill_of_materials b ON b.product = w.product "
        "JOIN items i ON i.sku = b.component WHERE w.number = ?",
        (number,),
    ).fetchall()
    order = db.execute("SELECT barcode FROM work_orders WHERE number = ?", (number,)).fetchone()
    picks = {r["barcode"] for r in rows} | set(still_to_issue(db, number).values())
    return {order["barcode"]} | picks


def pick_rows(page: Path) -> list[list[str]]:
    """What zbar reads in each band of the page between two full-width rules: on a
    traveler, one pick line's barcodes per band (stage rows read nothing)."""
    image = Image.open(page).convert("L")
    width, height = image.size
    pixels = image.load()
    assert pixels is not None
    left, right = width // 10, width - width // 10
    rules = [
        y for y in range(height)
        if all(pixels[x, y] < 128 for x in range(left, right, 7))  # type: ignore[operator]
    ]  # fmt: skip
    bands = [(a, b) for a, b in zip(rules, rules[1:], strict=False) if b - a > 20]
    read = []
    for n, (top, bottom) in enumerate(bands):
        band = page.parent / f"{page.stem}-band{n}.png"
        image.crop((0, top + 2, width, bottom - 1)).save(band)
        found = zbar(band)
        if found:
            read.append(sorted(found))
    return read


# ---------------------------------------------------------------- done means


def test_printed_paper_drives_a_station(plant: str, db: sqlite3.Connection, tmp_path: Path) -> None:
    # The command sheet: every page read gives exactly the commands, each once.
    sheet = tmp_path / "sheet.pdf"
    result = run("commands", "--format", "pdf", "--out", str(sheet))
    assert result.exit_code == 0, result.output
    assert result.output == f"wrote the command sheet ({len(COMMANDS)} commands) to {sheet}\n"
    read = [value for page in read_pdf(sheet) for value in page]
    assert len(read) == len(COMMANDS) and set(read) == COMMANDS

    # A badge sheet, the order's traveler, and two item labels.
    badges = tmp_path / "badges.pdf"
    assert run("badges", "B1002", "--out", str(badges), "--db", plant).exit_code == 0
    [[badge]] = read_pdf(badges)
    number = open_cart_order(db)
    traveler = tmp_path / "traveler.pdf"
    result = run("workorders", number, "--format", "pdf", "--out", str(traveler), "--db", plant)
    assert result.exit_code == 0, result.output
    pages = read_pdf(traveler)
    on_traveler = {value for page in pages for value in page}
    assert on_traveler == expected_traveler_codes(db, number)
    assert BOX_L_BARCODE in on_traveler and "BOX-L" not in on_traveler  # never the sku
    order_barcode = db.execute(
        "SELECT barcode FROM work_orders WHERE number = ?", (number,)
    ).fetchone()[0]
    assert all(page.count(order_barcode) == 1 for page in pages)  # any page sets the order
    items = tmp_path / "items"
    result = run("items", "SCR-M6X16", "BOX-L", "--format", "png", "--out", str(items),
                 "--db", plant)  # fmt: skip
    assert result.exit_code == 0 and result.output == f"wrote 2 labels to {items}/\n"
    [gs1] = zbar(items / "SCR-M6X16.png")
    [carton] = zbar(items / "BOX-L.png")
    assert carton == BOX_L_BARCODE
    # A scanner with AIM identifiers on prefixes GS1-128 with ]C1; zbar reports it bare.
    gs1_scan = decode(b"]C1" + gs1.encode())
    gtin = db.execute("SELECT gtin FROM items WHERE sku = 'SCR-M6X16'").fetchone()[0]
    assert gs1_scan.gs1 is not None and gs1_scan.gs1.gtin == gtin

    # The storeroom scans the paper: badge, issue mode, the traveler, QTY:5, the items
    # (the cartons from their bin, A-06: the window's own A-01 holds none).
    assert {"CMD:MODE:ISSUE", "QTY:5", "CMD:UNDO"} <= set(read)
    scans = [badge, "CMD:MODE:ISSUE", order_barcode, "QTY:5", "]C1" + gs1,
             "A-06", "QTY:5", carton]  # fmt: skip
    results = process_batch(
        db, [ScanInput("STORES", code.encode(), source="serial") for code in scans]
    )
    assert [r.status for r in results] == ["accepted"] * len(scans), results
    issued = db.execute(
        "SELECT id, item, qty_milli, from_location FROM movements "
        "WHERE kind = 'issue' AND work_order = ? AND station = 'STORES' AND reverses IS NULL "
        "ORDER BY id DESC LIMIT 2",
        (number,),
    ).fetchall()
    # From the bins scanned, five of each: QTY: holds for one action only.
    assert [tuple(r)[1:] for r in issued] == [("BOX-L", 5000, "A-06"), ("SCR-M6X16", 5000, "A-01")]

    # CMD:UNDO from the sheet reverses the last issue with a reversal entry.
    [undo] = process_batch(db, [ScanInput("STORES", b"CMD:UNDO", source="serial")])
    assert undo.status == "accepted", undo
    reversal = db.execute(
        "SELECT kind, item, qty_milli FROM movements WHERE reverses = ?", (issued[0]["id"],)
    ).fetchone()
    assert tuple(reversal) == ("issue", "BOX-L", 5000)


def test_traveler_reads_the_order_stages_and_exact_picks(db: sqlite3.Connection) -> None:
    number = open_cart_order(db)
    # A bill line in thousandths of a unit, and an order quantity that is not whole.
    with write(db):
        db.execute("UPDATE work_orders SET qty_milli = 2500 WHERE number = ?", (number,))
        db.execute(
            "UPDATE bill_of_materials SET qty_per_milli = 333 "
            "WHERE product = 'CART-TL' AND component = 'WW-08'"
        )
    t = documents.traveler(db, number)
    order = db.execute(
        "SELECT w.*, i.description, i.uom FROM work_orders w JOIN items i ON i.sku = w.product "
        "WHERE number = ?",
        (number,),
    ).fetchone()
    assert (t.number, t.barcode, t.product, t.description, t.due, t.priority) == (
        number, order["barcode"], "CART-TL", order["description"], order["due"],
        order["priority"],
    )  # fmt: skip
    assert t.quantity == "2.5 pcs"
    stages = db.execute(
        "SELECT s.seq, s.stage, st.name FROM work_order_stages s JOIN stages st "
        "ON st.code = s.stage WHERE work_order = ? ORDER BY seq",
        (number,),
    ).fetchall()
    assert [(s.seq, s.code, s.name) for s in t.stages] == [tuple(r) for r in stages]
    bom = db.execute(
        "SELECT b.component, b.qty_per_milli, b.stage, i.uom, i.barcode, i.description "
        "FROM bill_of_materials b JOIN items i ON i.sku = b.component WHERE product = 'CART-TL'"
    ).fetchall()
    assert len(t.picks) == len(bom)
    by_sku = {p.sku: p for p in t.picks}
    for line in bom:
        pick = by_sku[line["component"]]
        exact = from_milli(line["qty_per_milli"]) * Decimal("2.5")
        assert Decimal(pick.quantity) == exact, pick
        assert (pick.uom, pick.barcode, pick.stage, pick.description) == (
            line["uom"], line["barcode"], line["stage"], line["description"],
        )  # fmt: skip
    assert by_sku["WW-08"].quantity == "0.8325"  # 0.333 kg × 2.5, not rounded
    assert by_sku["BOX-L"].barcode == BOX_L_BARCODE
    # In the order the stages consume them.
    seq = {s.code: s.seq for s in t.stages}
    assert [seq[p.stage or ""] for p in t.picks] == sorted(seq[p.stage or ""] for p in t.picks)


def test_several_travelers_make_one_document(
    plant: str, db: sqlite3.Connection, tmp_path: Path
) -> None:
    numbers = [r[0] for r in db.execute(
        "SELECT number FROM work_orders WHERE product IN ('BRKT-L', 'PANEL-DIN') "
        "ORDER BY number LIMIT 3"
    )]  # fmt: skip
    pages = [len(traveler_pages(documents.traveler(db, n))) for n in numbers]
    out = tmp_path / "travelers.pdf"
    result = run("workorders", *numbers, "--out", str(out), "--db", plant)
    assert result.exit_code == 0, result.output
    assert result.output == f"wrote 3 travelers ({sum(pages)} pages) to {out}\n"
    read = read_pdf(out)
    assert len(read) == sum(pages)
    for i, number in enumerate(numbers):
        # Each order's pages, in order, carry that order's barcode and no other order's.
        for page in read[sum(pages[:i]) : sum(pages[: i + 1])]:
            assert number in page and not set(page) & (set(numbers) - {number})


def test_travelers_as_png_one_file_per_page(
    plant: str, db: sqlite3.Connection, tmp_path: Path
) -> None:
    number = open_cart_order(db)
    out = tmp_path / f"{number}.png"
    result = run("workorders", number, "--format", "png", "--out", str(out), "--db", plant)
    assert result.exit_code == 0, result.output
    pages = len(traveler_pages(documents.traveler(db, number)))
    files = [out] + [tmp_path / f"{number}-{n}.png" for n in range(2, pages + 1)]
    assert sorted(tmp_path.glob("*.png")) == sorted(files)
    assert number in zbar(out)
    assert {v for f in files for v in zbar(f)} == expected_traveler_codes(db, number)


def test_each_pick_line_prints_what_is_still_to_issue_as_a_qty_barcode(
    plant: str, db: sqlite3.Connection, tmp_path: Path
) -> None:
    """Issue 12: beside each item's barcode the traveler prints QTY:<what is still to
    issue for that line>, so a line is issued with two scans from the paper."""
    number = open_cart_order(db)
    order_barcode = db.execute(
        "SELECT barcode FROM work_orders WHERE number = ?", (number,)
    ).fetchone()[0]
    # Part of one line already issued: its QTY is what is left, not the whole need.
    scans = ["B1002", "CMD:MODE:ISSUE", order_barcode, "A-06", "QTY:7", BOX_L_BARCODE]
    results = process_batch(db, [ScanInput("STORES", c.encode(), source="serial") for c in scans])
    assert [r.status for r in results] == ["accepted"] * len(scans), results
    expected = still_to_issue(db, number)
    need = db.execute(
        "SELECT b.qty_per_milli * w.qty_milli / 1000 FROM work_orders w "
        "JOIN bill_of_materials b ON b.product = w.product "
        "WHERE w.number = ? AND b.component = 'BOX-L'",
        (number,),
    ).fetchone()[0]
    assert expected[BOX_L_BARCODE] == f"QTY:{from_milli(need - 7000)}"

    out = tmp_path / f"{number}.png"
    result = run("workorders", number, "--format", "png", "--out", str(out), "--db", plant)
    assert result.exit_code == 0, result.output
    pages = sorted(tmp_path.glob(f"{number}*.png"))
    lines = [row for page in pages for row in pick_rows(page) if order_barcode not in row]
    # One band per bill line: its item's barcode and its own QTY, nothing else.
    assert sorted(lines) == sorted(sorted([item, qty]) for item, qty in expected.items())

    # The paper drives the station: the QTY read beside BOX-L, then BOX-L, issues the rest.
    [box_line] = [row for row in lines if BOX_L_BARCODE in row]
    [qty] = [code for code in box_line if code.startswith("QTY:")]
    before = db.execute("SELECT MAX(id) FROM movements").fetchone()[0]
    results = process_batch(
        db, [ScanInput("STORES", c.encode(), source="serial") for c in (qty, BOX_L_BARCODE)]
    )
    assert [r.status for r in results] == ["accepted"] * 2, results
    issued = db.execute(
        "SELECT item, qty_milli FROM movements WHERE id > ? AND kind = 'issue'", (before,)
    ).fetchall()
    assert [tuple(r) for r in issued] == [("BOX-L", need - 7000)]
    # Fully issued now: the line prints no QTY to scan.
    assert BOX_L_BARCODE not in still_to_issue(db, number)
    box = [p for p in documents.traveler(db, number).picks if p.sku == "BOX-L"]
    assert [p.issue_barcode for p in box] == [None]


# ---------------------------------------------------------------- labels


def test_location_and_badge_labels_are_their_registry_values(
    plant: str, db: sqlite3.Connection, tmp_path: Path
) -> None:
    with write(db):  # a bin whose label carries another value than its code
        db.execute("UPDATE locations SET barcode = 'BIN-0001' WHERE code = 'A-01'")
        db.execute(
            "UPDATE barcodes SET value = 'BIN-0001' WHERE kind = 'location' AND code = 'A-01'"
        )
    out = tmp_path / "bins"
    result = run("locations", "A-01", "B-02", "--size", "50x25", "--format", "png",
                 "--out", str(out), "--db", plant)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["A-01.png", "B-02.png"]
    assert zbar(out / "A-01.png") == ["BIN-0001"] and zbar(out / "B-02.png") == ["B-02"]
    # A code may also be given as the barcode value it prints.
    one = tmp_path / "one.png"
    assert run("locations", "BIN-0001", "--out", str(one), "--db", plant).exit_code == 0
    assert zbar(one) == ["BIN-0001"]
    # Every badge on one sheet.
    sheet = tmp_path / "badges.pdf"
    result = run("badges", "--size", "50x25", "--paper", "letter", "--out", str(sheet),
                 "--db", plant)  # fmt: skip
    assert result.exit_code == 0, result.output
    badges = {r[0] for r in db.execute("SELECT badge FROM operators")}
    assert result.output == f"wrote {len(badges)} labels to {sheet}\n"
    read = [v for page in read_pdf(sheet) for v in page]
    assert sorted(read) == sorted(badges)


def test_items_with_a_gtin_are_gs1_128(plant: str, db: sqlite3.Connection, tmp_path: Path) -> None:
    rows = db.execute(
        "SELECT sku, gtin FROM items WHERE gtin IS NOT NULL ORDER BY sku LIMIT 4"
    ).fetchall()
    out = tmp_path / "items"
    skus = [r["sku"] for r in rows]
    assert run("items", *skus, "--format", "png", "--out", str(out), "--db", plant).exit_code == 0
    for row in rows:
        [data] = zbar(out / f"{row['sku']}.png")
        scan = decode(b"]C1" + data.encode())
        assert scan.problem is None and scan.gs1 is not None
        assert scan.gs1.gtin == row["gtin"]


def test_command_labels_as_files_named_safely(tmp_path: Path) -> None:
    out = tmp_path / "cmds"
    result = run("commands", "CMD:MODE:ISSUE", "qty:7", "LOT:A/23", "--format", "svg",
                 "--out", str(out))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "CMD_MODE_ISSUE.svg", "LOT_A_23.svg", "QTY_7.svg",
    ]  # fmt: skip
    assert 'data-value="LOT:A/23"' in (out / "LOT_A_23.svg").read_text()
    png = tmp_path / "cmds-png"
    result = run("commands", "--format", "png", "--out", str(png), "--json")
    assert result.exit_code == 0 and result.stderr == f"wrote {len(COMMANDS)} labels to {png}/\n"
    report = json.loads(result.stdout)
    assert (report["kind"], report["format"], report["count"]) == ("commands", "png", 40)
    assert sorted(report["files"]) == sorted(str(p) for p in png.iterdir())
    assert len(list(png.iterdir())) == len(COMMANDS)
    assert zbar(png / "CMD_MODE_ISSUE.png") == ["CMD:MODE:ISSUE"]
    assert zbar(png / "QTY_5.png") == ["QTY:5"]


def test_safe_file_names() -> None:
    assert safe_name("CMD:MODE:ISSUE") == "CMD_MODE_ISSUE"
    assert safe_name("../etc/passwd") == "etc_passwd"
    assert safe_name("..") == "_"
    assert file_names(["A/B", "A:B", "a_b", "C"], "png") == [
        "A_B.png", "A_B~2.png", "a_b~3.png", "C.png",
    ]  # fmt: skip


# ---------------------------------------------------------------- refusals


def test_unknown_codes_are_named_with_how_to_list(plant: str, tmp_path: Path) -> None:
    out = tmp_path / "x.pdf"
    result = run("locations", "A-01", "NO-SUCH", "ZZ", "--out", str(out), "--db", plant)
    assert result.exit_code == 1
    assert result.output == (
        "Error: unknown locations 'NO-SUCH', 'ZZ': "
        "`shopfloor labels locations --list` shows the codes\n"
    )
    assert not out.exists()
    result = run("workorders", "WO-1", "--out", str(out), "--db", plant)
    assert result.exit_code == 1 and "unknown work order 'WO-1'" in result.output
    result = run("commands", "CMD:FLY", "--out", str(out))
    assert result.exit_code == 1 and "unknown command 'CMD:FLY'" in result.output
    listed = run("locations", "--list", "--db", plant)
    assert listed.exit_code == 0 and "A-01" in listed.output and "Stores aisle A" in listed.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["workorders", "--format", "zpl", "--out", "x.zpl"], "use --format pdf"),
        (["locations", "--format", "pdf", "--printer", "127.0.0.1"], "--printer sends ZPL"),
        (["locations", "--format", "png", "--lp", "q"], "--lp prints ZPL"),
        (["locations", "--format", "png"], "give --out PATH"),
        (["locations", "--printer", "h:99999"], "write HOST:PORT"),
        (["locations", "--printer", "h", "--lp", "q"], "not both"),
        (["locations", "--out", "bins.png"], "names one file, but there are 20"),
    ],
)
def test_refusals_say_what_to_do(
    plant: str, tmp_path: Path, args: list[str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    result = run(*args, "--db", plant)
    assert result.exit_code == 1 and message in result.output, result.output
    assert result.output.count("\n") == 1  # one line
    assert not list(work.iterdir())  # nothing written


# ---------------------------------------------------------------- printing


def test_zpl_to_a_printer_is_what_the_file_holds(
    plant: str, tmp_path: Path, listener: tuple[int, list[bytes]]
) -> None:
    port, received = listener
    out = tmp_path / "bins.zpl"
    codes = ["A-01", "B-02", "SCRAP"]
    result = run("locations", *codes, "--format", "zpl", "--out", str(out), "--db", plant)
    assert result.exit_code == 0 and result.output == f"wrote 3 labels to {out}\n"
    zpl = out.read_bytes()
    assert zpl.count(b"^XA") == 3 and zpl.endswith(b"^XZ\n")
    result = run("locations", *codes, "--printer", f"127.0.0.1:{port}", "--db", plant)
    assert result.exit_code == 0, result.output
    assert result.output == f"sent 3 labels to printer 127.0.0.1:{port}\n"
    for _ in range(100):
        if received:
            break
        threading.Event().wait(0.05)
    assert received == [zpl]
    # The same ZPL on standard output, for a pipe.
    piped = CliRunner().invoke(
        cli, ["labels", "locations", *codes, "--out", "-", "--format", "zpl", "--db", plant]
    )
    assert piped.exit_code == 0 and piped.stdout.encode() == zpl


def test_a_refused_printer_is_one_clear_line(plant: str) -> None:
    with socket.socket() as holder:  # bound, not listening: the kernel refuses
        holder.bind(("127.0.0.1", 0))
        port = holder.getsockname()[1]
        result = run("items", "BOX-L", "--format", "zpl", "--printer", f"127.0.0.1:{port}",
                     "--db", plant)  # fmt: skip
    assert result.exit_code == 1
    assert result.output == (
        f"Error: printer 127.0.0.1:{port} refused the connection: is it on and is the port right?\n"
    )


def test_lp_gets_zpl_raw_and_pdf_as_a_document(
    plant: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    lp = bindir / "lp"
    lp.write_text(f'#!/bin/sh\necho "$@" > {tmp_path}/args\ncat > {tmp_path}/job\n')
    lp.chmod(lp.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    result = run("badges", "B3001", "--lp", "zebra1", "--db", plant)
    assert result.exit_code == 0 and result.output == "sent 1 label to lp queue zebra1\n"
    assert (tmp_path / "args").read_text().split() == ["-d", "zebra1", "-o", "raw"]
    assert (tmp_path / "job").read_bytes().startswith(b"^XA")
    result = run("commands", "--format", "pdf", "--lp", "office")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "args").read_text().split() == ["-d", "office"]
    assert (tmp_path / "job").read_bytes().startswith(b"%PDF")


# ---------------------------------------------------------------- the app


def notes(app: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    original = app.notify

    def notify(message: str, **options: Any) -> None:
        seen.append(f"{options.get('severity', 'information')}: {message}")
        original(message, **options)

    monkeypatch.setattr(app, "notify", notify)
    return seen


async def test_board_prints_the_highlighted_traveler(
    plant: str, db: sqlite3.Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "printed"
    monkeypatch.setenv("SHOPFLOOR_LABELS", str(folder))
    app = create_app(plant, now_ms=fixed_now, today=TODAY, live=False)
    seen = notes(app, monkeypatch)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        board = app.screen
        assert isinstance(board, BoardScreen)
        await pilot.press("down", "down")
        number = board.table.highlighted
        assert number is not None
        await pilot.press("ctrl+t")  # works while the filter holds the focus
        await settle(pilot)
        path = folder / f"traveler-{number}.pdf"
        await wait_until(pilot, lambda: bool(seen))
        assert seen == [f"information: Traveler {number} written to {path}"]
        assert board.filter_input.value == ""
    read = read_pdf(path)
    assert {v for page in read for v in page} == expected_traveler_codes(db, number)


async def test_stock_prints_the_chosen_bin_or_item(
    plant: str, db: sqlite3.Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SHOPFLOOR_LABELS", raising=False)
    app = create_app(plant, now_ms=fixed_now, today=TODAY, live=False)
    seen = notes(app, monkeypatch)
    folder = Path(plant).resolve().parent / "labels"  # beside the database
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f3")
        await settle(pilot)
        stock = app.screen
        assert isinstance(stock, StockScreen)
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert seen == ["warning: Choose an item or a location first"]
        stock.show_code("B-04")
        await settle(pilot)
        await pilot.press("ctrl+l")
        await wait_until(pilot, lambda: len(seen) == 2)
        stock.show_code("BOX-L")
        await settle(pilot)
        stock.results_table.focus()
        await pilot.press("l")  # plain "l" once the search box has let go of the focus
        await wait_until(pilot, lambda: len(seen) == 3)
    bin_png, item_png = folder / "location-B-04.png", folder / "item-BOX-L.png"
    assert seen[1:] == [
        f"information: Bin label B-04 written to {bin_png}",
        f"information: Item label BOX-L written to {item_png}",
    ]
    assert zbar(bin_png) == ["B-04"]
    assert zbar(item_png) == [BOX_L_BARCODE]
