"""A whole shift with a scanner and the printed paper alone (issue 12 item 9).

The demo plant gets a five-line kit and a work order for it through `shopfloor import`;
`shopfloor labels` prints the command sheet, the order's traveler, the badges, two bin
labels and the kit's item label as PDFs; poppler rasterises them and zbar decodes every
barcode on them. From then on a barcode reaches the app only as a scanner sends it:
the text zbar decoded off a page, written with its CR into a pty that the station's
kiosk (`shopfloor --kiosk --station S --scanner PTY`, in tmux at 80x24) reads as its
serial scanner. Nothing is typed, except the supervisor's F1 and badge (a wedge
scanner typing it) that unlock the kiosk at the end.

A storeroom clerk receives at the dock (the quantity keyed on the sheet's number pad);
another issues the five-line traveler in 12 scans with the badge (each line's QTY
barcode printed on the traveler, then its item), puts the receipt away, counts the
dock bin and takes back a spare; an operator at assembly scraps one unit and completes
the rest; the dock ships them; everyone signs out; an unlocked kiosk relocks after its
short idle time. After each scan the screen shows the scan's outcome on its row, and
after each step the screen says it in words and the record shows the posting with the
person behind it.

"""

from __future__ import annotations

import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from db.connection import connect
from db.idle import SIGNOUT_IDLE_MIN
from db.roles import KIOSK_RELOCK_MIN, set_setting
from tests.e2e.conftest import check_passes, shopfloor_json, stock_changes
from tests.e2e.terminal import SHOPFLOOR, Terminal
from tests.label_reading import tool, zbar
from tests.serial_devices import Pty

pytestmark = pytest.mark.timeout(180)

ORDER = "WO-25001"
KIT = "KIT-M5"
ORDER_QTY = 10
# The kit's bill: five components, all in the stores window's own bin, whose
# pick quantities for ten kits (20, 20, 10, 5, 8) are all on the command sheet.
BILL = [("SCR-M5X12", "2"), ("NUT-M5", "2"), ("WSH-M6", "1"), ("SCR-M4X10", "0.5"),
        ("NUT-M4", "0.8")]  # fmt: skip
PICKS = {"SCR-M5X12": 20, "NUT-M5": 20, "WSH-M6": 10, "SCR-M4X10": 5, "NUT-M4": 8}
RECEIVER, CLERK, OPERATOR, SUPERVISOR = "B1001", "B1002", "B2001", "B3001"
TRAVELER_SCANS = 12  # issue 12: a five-line traveler in at most 12 scans, badge included
RELOCK_MIN = 0.1  # an unlocked kiosk relocks after 6 s without a key
IDLE_MIN = 0.05  # a station nobody scans at signs its operator out after 3 s
SCAN_WAIT_S = 10.0


# ---------------------------------------------------------------- the plant and its paper


def shopfloor(*args: str) -> str:
    done = subprocess.run(
        [SHOPFLOOR, *args], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, f"shopfloor {' '.join(args)}:\n{done.stdout}{done.stderr}"
    return done.stdout


def add_the_kit(plant: Path, folder: Path) -> None:
    """The ERP's export of a new product, its routing (assembly only), bill and order."""
    folder.mkdir()
    files = {
        "items": f"sku,description,uom,gtin,lot_tracked,barcode\n{KIT},Fastener kit M5,pcs,,0,\n",
        "routings": f"product,seq,stage\n{KIT},10,ASSY\n",
        "bom": "product,component,qty_per,stage\n"
        + "".join(f"{KIT},{sku},{qty},ASSY\n" for sku, qty in BILL),
        "workorders": "number,product,qty,due,priority,barcode\n"
        f"{ORDER},{KIT},{ORDER_QTY},2030-01-15,1,\n",
    }
    for kind, text in files.items():
        (folder / f"{kind}.csv").write_text(text)
        shopfloor("import", kind, str(folder / f"{kind}.csv"), "--db", str(plant))


class Paper:
    """The printed sheets, each known only by what zbar decodes off its pages."""

    def __init__(self, plant: Path, folder: Path) -> None:
        self.plant = plant
        self.folder = folder
        self.sheets: dict[str, list[str]] = {}

    def print(self, sheet: str, *labels_args: str) -> list[str]:
        """`shopfloor labels ARGS` as a PDF, rasterised at 200 dpi, read by zbar."""
        pdf = self.folder / f"{sheet}.pdf"
        shopfloor("labels", *labels_args, "--format", "pdf", "--out", str(pdf),
                  "--db", str(self.plant))  # fmt: skip
        pages = self.folder / f"{sheet}-pages"
        pages.mkdir()
        subprocess.run(
            [tool("pdftoppm", "poppler-utils"), "-r", "200", "-png", str(pdf), str(pages / "p")],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        self.sheets[sheet] = [text for page in sorted(pages.glob("p*.png")) for text in zbar(page)]
        return self.sheets[sheet]

    def carries(self, sheet: str, text: str) -> bool:
        return text in self.sheets[sheet]

    def barcode(self, sheet: str, text: str) -> str:
        """The barcode on `sheet` whose decoded text is `text`; fails if the sheet has none."""
        assert self.carries(sheet, text), (
            f"the {sheet} sheet carries no barcode {text!r}; zbar read: {self.sheets[sheet]}"
        )
        return text


# ---------------------------------------------------------------- a station and its scanner


@dataclass
class Outcome:
    scan: int
    status: str
    message: str


class Station:
    """One kiosk, its serial scanner a pty, and the person's hand that scans the paper."""

    def __init__(self, code: str, plant: Path, folder: Path, scanner: Pty, paper: Paper) -> None:
        self.code = code
        self.plant = plant
        self.scanner = scanner
        self.paper = paper
        self.scanner_name = f"{code.lower()}-local"
        folder.mkdir()
        self.terminal = Terminal(folder)
        self.db = sqlite3.connect(plant, timeout=10)
        self.db.row_factory = sqlite3.Row
        self.scans = 0  # every scan sent to this station
        self._last: tuple[str, float] | None = None

    def open(self) -> None:
        self.terminal.start(
            ["--db", str(self.plant), "--kiosk", "--station", self.code,
             "--scanner", self.scanner.path],
            width=80, height=24,
        )  # fmt: skip
        self.terminal.wait_text(f"SCAN · {self.code}", "Scan your badge to sign in")
        self.wait(lambda: self.value("SELECT connected FROM scanners WHERE name = ?",
                                     self.scanner_name) == 1, "the scanner connected")  # fmt: skip

    def close(self) -> None:
        self.terminal.stop()
        self.db.close()

    # -- reading the record and the screen

    def value(self, sql: str, *params: Any) -> Any:
        row = self.db.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def wait(self, check: Callable[[], bool], what: str, seconds: float = SCAN_WAIT_S) -> None:
        deadline = time.monotonic() + seconds
        while not check():
            if time.monotonic() > deadline:
                self.terminal.screen()
                self.terminal.fail(f"{self.code}: not within {seconds:.0f} s: {what}")
            time.sleep(0.02)

    def shows(self, *texts: str) -> str:
        return self.terminal.wait_text(*texts)

    def session(self) -> dict[str, Any]:
        row = self.db.execute(
            "SELECT mode, operator, work_order, location FROM station_sessions WHERE station = ?",
            (self.code,),
        ).fetchone()
        return dict(row) if row else {}

    def movements(self, scan: int) -> list[tuple[Any, ...]]:
        """(kind, item, qty, from, to, work order, operator, station) of what `scan` posted."""
        return [
            tuple(r)
            for r in self.db.execute(
                "SELECT kind, item, qty_milli / 1000.0, from_location, to_location, work_order, "
                "operator, station FROM movements WHERE scan = ? ORDER BY id",
                (scan,),
            )
        ]

    # -- scanning

    def scan(self, sheet: str, text: str, *, status: str = "accepted") -> Outcome:
        """Scan the barcode `text` off `sheet`: its decoded text and CR down the serial
        line; wait for the journal's outcome and for the screen to show it on its row."""
        code = self.paper.barcode(sheet, text)
        if self._last is not None and self._last[0] == code:
            # A person cannot scan one label twice within the double-read window (250 ms).
            time.sleep(max(0.0, self._last[1] + 0.3 - time.monotonic()))
        before = self.value("SELECT COALESCE(MAX(id), 0) FROM scan_journal")
        self.scanner.write(code.encode() + b"\r")
        self._last = (code, time.monotonic())
        self.scans += 1
        row: sqlite3.Row | None = None

        def landed() -> bool:
            nonlocal row
            row = self.db.execute(
                "SELECT j.id, o.status, o.message FROM scan_journal j "
                "JOIN scan_outcomes o ON o.scan = j.id WHERE j.id > ? AND j.scanner = ?",
                (before, self.scanner_name),
            ).fetchone()
            return row is not None

        self.wait(landed, f"an outcome for {code!r}")
        assert row is not None
        outcome = Outcome(int(row["id"]), str(row["status"]), str(row["message"]))
        assert outcome.status == status, f"{code!r}: {outcome}"
        mark = "✓" if status == "accepted" else "✗"
        words = f"{mark} {outcome.message[:24]}"
        self.terminal.wait_for(
            lambda s: any(
                line.split()[:1] == [str(outcome.scan)] and words in line for line in s.splitlines()
            ),
            f"scan {outcome.scan} ({code}) on its row with {words!r}",
        )
        # Its scans arrive: the station never says its scanner is lost or has no reader.
        assert "⚠ scanner" not in self.terminal.last_screen, self.terminal.last_screen
        return outcome


@pytest.fixture
def open_station(
    tmp_path: Path, ptys: Callable[[], Pty]
) -> Iterator[Callable[[str, Path, Paper], Station]]:
    opened: list[Station] = []

    def make(code: str, plant: Path, paper: Paper) -> Station:
        station = Station(code, plant, tmp_path / code, ptys(), paper)
        opened.append(station)
        station.open()
        return station

    yield make
    for station in opened:
        station.close()


def stock(plant: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = shopfloor_json(plant, "stock")
    return rows


def order_status(plant: Path) -> dict[str, Any]:
    (row,) = shopfloor_json(plant, "status", "--order", ORDER)
    return dict(row)


# ---------------------------------------------------------------- the steps


def sign_in(station: Station, badge: str, name: str) -> None:
    assert station.scan("badges", badge).message == f"signed in {name}"
    station.shows(f"{name} ({badge})")
    assert station.session()["operator"] == badge


def sign_out(station: Station, name: str) -> None:
    """CMD:SIGNOUT: nobody is behind the station's next scan."""
    assert station.scan("commands", "CMD:SIGNOUT").message == f"signed out {name}"
    station.shows("nobody signed in", "Scan your badge to sign in")
    assert station.session()["operator"] is None


def receive(station: Station, plant: Path) -> None:
    before = stock(plant)
    sign_in(station, RECEIVER, "Ana Ribeiro")
    station.shows("MODE        RECEIVE", "LOCATION    RCV-DOCK")
    key_in(station, "50")
    got = station.scan("traveler", "SCR-M5X12")
    assert got.message == "received 50 SCR-M5X12 into RCV-DOCK"
    station.shows("✓ received 50 SCR-M5X12 into RCV-DOCK")
    assert station.movements(got.scan) == [
        ("receive", "SCR-M5X12", 50, None, "RCV-DOCK", None, RECEIVER, "RECEIVING")
    ]
    assert stock_changes(before, stock(plant)) == {("SCR-M5X12", "RCV-DOCK", None): 50}
    sign_out(station, "Ana Ribeiro")


def pick_quantity(paper: Paper, sku: str) -> tuple[str, str]:
    """(sheet, barcode text) of the quantity to issue of `sku` to the order: the QTY
    barcode the traveler prints beside the item (what is still to issue of that line)."""
    return "traveler", f"QTY:{PICKS[sku]}"


def key_in(station: Station, number: str) -> None:
    """A quantity the command sheet has no QTY: label for, keyed on its number pad."""
    for key in number:
        station.scan("commands", f"NUM:{key}")
    station.shows(f"QTY {number} (number pad)")


def issue_the_traveler(station: Station, plant: Path) -> None:
    """Badge, traveler, then per line its pick quantity and its item: 12 scans."""
    before = stock(plant)
    station.scans = 0
    sign_in(station, CLERK, "Tom Walsh")
    station.shows("MODE        ISSUE", "LOCATION    A-01")
    assert station.scan("traveler", ORDER).message == f"work order {ORDER}: {KIT} × 10"
    station.shows(f"WORK ORDER  {ORDER} {KIT}", f"Scan items to issue from A-01 to {ORDER}")
    for sku, qty in PICKS.items():
        station.scan(*pick_quantity(station.paper, sku))
        got = station.scan("traveler", sku)
        said = f"issued {qty} {sku} from A-01 to {ORDER}"
        assert got.message == said
        station.shows(f"✓ {said}")
        assert station.movements(got.scan) == [
            ("issue", sku, qty, "A-01", "WIP-ASSY", ORDER, CLERK, "STORES")
        ]
    assert station.scans <= TRAVELER_SCANS, f"{station.scans} scans for a five-line traveler"
    # Each line left the bin for the order's work in progress at assembly, where it is used.
    assert stock_changes(before, stock(plant)) == {
        **{(sku, "A-01", None): -q for sku, q in PICKS.items()},
        **{(sku, "WIP-ASSY", None): q for sku, q in PICKS.items()},
    }
    assert order_status(plant)["status"] == "in_progress"


def move(station: Station, plant: Path) -> None:
    """Put half the receipt away: from the dock to the stores bin."""
    before = stock(plant)
    assert station.scan("commands", "CMD:MODE:MOVE").message == "mode MOVE"
    station.shows("MODE        MOVE")
    station.scan("bins", "RCV-DOCK")
    assert station.scan("bins", "A-01").message == "moving RCV-DOCK → A-01"
    station.scan("commands", "QTY:25")
    got = station.scan("traveler", "SCR-M5X12")
    assert got.message == "moved 25 SCR-M5X12 RCV-DOCK → A-01"
    station.shows("✓ moved 25 SCR-M5X12 RCV-DOCK → A-01")
    assert station.movements(got.scan) == [
        ("transfer", "SCR-M5X12", 25, "RCV-DOCK", "A-01", None, CLERK, "STORES")
    ]
    assert stock_changes(before, stock(plant)) == {
        ("SCR-M5X12", "RCV-DOCK", None): -25,
        ("SCR-M5X12", "A-01", None): 25,
    }


def count(station: Station, plant: Path) -> None:
    """The dock bin holds 24, not the 25 the record says: the difference is adjusted."""
    before = stock(plant)
    station.scan("commands", "CMD:MODE:COUNT")
    station.shows("MODE        COUNT")
    station.scan("bins", "RCV-DOCK")
    key_in(station, "24")
    # A count that changes the record needs its reason (adjust_needs_reason, on by default).
    assert station.scan("commands", "REASON:MISCOUNT").message.startswith("reason MISCOUNT")
    got = station.scan("traveler", "SCR-M5X12")
    said = "counted 24 SCR-M5X12 in RCV-DOCK, was 25: −1 adjusted (reason MISCOUNT)"
    assert got.message == said
    station.shows(f"✓ {said}")
    assert station.movements(got.scan) == [
        ("adjust", "SCR-M5X12", 1, "RCV-DOCK", None, None, CLERK, "STORES")
    ]
    assert stock_changes(before, stock(plant)) == {("SCR-M5X12", "RCV-DOCK", None): -1}


def return_a_spare(station: Station, plant: Path) -> None:
    """One washer more than the kit needs comes back from the order to the bin."""
    before = stock(plant)
    station.scan("commands", "CMD:MODE:RETURN")
    station.shows("MODE        RETURN")
    station.scan("traveler", ORDER)
    got = station.scan("traveler", "WSH-M6")  # no QTY: one
    said = f"returned 1 WSH-M6 from {ORDER} to A-01"
    assert got.message == said
    station.shows(f"✓ {said}")
    assert station.movements(got.scan) == [
        ("return", "WSH-M6", 1, "WIP-ASSY", "A-01", ORDER, CLERK, "STORES")
    ]
    assert stock_changes(before, stock(plant)) == {
        ("WSH-M6", "WIP-ASSY", None): -1,
        ("WSH-M6", "A-01", None): 1,
    }


def scrap_reason(station: Station) -> None:
    """A scrap needs its reason (scrap_needs_reason, on by default): from the command
    sheet's Reasons, which lists the plant's reasons.csv."""
    got = station.scan("commands", "REASON:DENT")
    assert got.message == "reason DENT (Dented or scratched in handling) for the next scrap"


def scrap(station: Station, plant: Path) -> None:
    sign_in(station, OPERATOR, "Kemal Aydin")
    station.shows("MODE        PROGRESS", "STAGE       ASSY")
    station.scan("commands", "CMD:MODE:SCRAP")
    station.scan("traveler", ORDER)
    station.scan("commands", "QTY:1")
    scrap_reason(station)
    got = station.scan("commands", "CMD:DONE")
    said = f"scrapped 1 of {ORDER} at ASSY (reason DENT)"
    assert got.message == said
    station.shows(f"✓ {said}")
    entry = station.db.execute(
        "SELECT kind, qty_milli, operator, station, reason FROM progress_entries WHERE scan = ?",
        (got.scan,),
    ).fetchall()
    assert [tuple(r) for r in entry] == [("scrap", 1000, OPERATOR, "ASSY-1", "DENT")]
    assert order_status(plant)["stages"] == [{"seq": 10, "stage": "ASSY", "done": 0, "scrap": 1}]


def progress(station: Station, plant: Path) -> None:
    """CMD:DONE with no quantity completes all that is left: nine kits, into finished goods."""
    before = stock(plant)
    station.scan("commands", "CMD:MODE:PROGRESS")
    station.scan("traveler", ORDER)
    got = station.scan("commands", "CMD:DONE")
    said = f"completed 9 of {ORDER} at ASSY"
    assert got.message == said
    station.shows(f"✓ {said}")
    posted = station.movements(got.scan)
    assert ("produce", KIT, 9, None, "FG-01", ORDER, OPERATOR, "ASSY-1") in posted, posted
    # Backflush: what the nine kits used, out of what was issued to the order.
    consumed = {m[1]: round(m[2], 3) for m in posted if m[0] == "consume"}
    assert consumed == {sku: round(float(qty) * 9, 3) for sku, qty in BILL}, posted
    assert all(m[6] == OPERATOR and m[7] == "ASSY-1" for m in posted), posted
    status = order_status(plant)
    assert status["status"] == "done" and status["completed"] == 9, status
    assert stock_changes(before, stock(plant)) == {
        (KIT, "FG-01", None): 9,
        **{(sku, "WIP-ASSY", None): -used for sku, used in consumed.items()},
    }


def ship(station: Station, plant: Path) -> None:
    before = stock(plant)
    sign_in(station, RECEIVER, "Ana Ribeiro")
    station.shows("MODE        SHIP")
    station.scan("commands", "QTY:9")
    got = station.scan("items", KIT)
    said = f"shipped 9 {KIT} from FG-01"
    assert got.message == said
    station.shows(f"✓ {said}")
    assert station.movements(got.scan) == [
        ("ship", KIT, 9, "FG-01", None, None, RECEIVER, "SHIPPING")
    ]
    assert stock_changes(before, stock(plant)) == {(KIT, "FG-01", None): -9}


def nobody_behind_a_scan(station: Station) -> None:
    """Signed out, the station posts nothing: the scan is refused and says what to scan."""
    got = station.scan("items", KIT, status="rejected")
    assert got.message.startswith("scan your badge first"), got
    station.shows("✗ scan your badge first")
    assert station.movements(got.scan) == []


def sign_out_after_idle(station: Station) -> None:
    """Signed in and then left alone past the station's idle time: the station signs the
    operator out by itself, on screen and in the record, and says so."""
    conn = connect(station.plant)
    try:
        set_setting(conn, SIGNOUT_IDLE_MIN, str(IDLE_MIN))
    finally:
        conn.close()
    sign_in(station, RECEIVER, "Ana Ribeiro")
    signed_in = time.monotonic()
    station.terminal.wait_text("signed out (idle)", seconds=IDLE_MIN * 60 + 10)
    idle = time.monotonic() - signed_in
    assert idle >= IDLE_MIN * 60 - 1, f"signed out after {idle:.1f} s, before its idle time"
    station.shows("nobody signed in")
    assert station.session()["operator"] is None


def relock_after_idle(station: Station) -> None:
    """A supervisor unlocks the kiosk to look at the board and walks away: it relocks."""
    conn = connect(station.plant)
    try:
        set_setting(conn, KIOSK_RELOCK_MIN, str(RELOCK_MIN))
    finally:
        conn.close()
    terminal = station.terminal
    terminal.keys("F1")
    terminal.wait_text("Kiosk: supervisor badge")
    terminal.scan(station.paper.barcode("badges", SUPERVISOR))  # a wedge scanner in the dialog
    unlocked = time.monotonic()
    terminal.wait_text("BOARD", "Progress")
    terminal.wait_text(f"SCAN · {station.code}", seconds=RELOCK_MIN * 60 + 10)
    idle = time.monotonic() - unlocked
    assert idle >= RELOCK_MIN * 60, f"relocked after {idle:.1f} s, before its idle time"
    terminal.wait_text("kiosk locked again")
    # Locked again: the board needs a supervisor badge once more.
    terminal.keys("F1")
    terminal.wait_text("Kiosk: supervisor badge")
    terminal.keys("Escape")
    terminal.wait_for(lambda s: "Kiosk: supervisor badge" not in s, "the badge dialog closed")
    assert f"SCAN · {station.code}" in terminal.last_screen
    assert terminal.exit_status() is None


# ---------------------------------------------------------------- the shift


def test_a_whole_shift_with_a_scanner_and_the_printed_paper(
    plant: Path, tmp_path: Path, open_station: Callable[[str, Path, Paper], Station]
) -> None:
    add_the_kit(plant, tmp_path / "erp")
    paper = Paper(plant, tmp_path)
    commands = paper.print("commands", "commands")
    traveler = paper.print("traveler", "workorders", ORDER)
    paper.print("badges", "badges", RECEIVER, CLERK, OPERATOR, SUPERVISOR)
    paper.print("bins", "locations", "RCV-DOCK", "A-01")
    paper.print("items", "items", KIT)
    assert "CMD:SIGNOUT" in commands and "CMD:MODE:ISSUE" in commands, commands
    # The traveler: the order's barcode and each of its five components'.
    assert {ORDER, *PICKS} <= set(traveler), traveler

    receiving = open_station("RECEIVING", plant, paper)
    receive(receiving, plant)
    receiving.close()

    stores = open_station("STORES", plant, paper)
    issue_the_traveler(stores, plant)
    move(stores, plant)
    count(stores, plant)
    return_a_spare(stores, plant)
    sign_out(stores, "Tom Walsh")
    stores.close()

    assembly = open_station("ASSY-1", plant, paper)
    scrap(assembly, plant)
    progress(assembly, plant)
    sign_out(assembly, "Kemal Aydin")
    assembly.close()

    shipping = open_station("SHIPPING", plant, paper)
    ship(shipping, plant)
    sign_out(shipping, "Ana Ribeiro")
    nobody_behind_a_scan(shipping)
    sign_out_after_idle(shipping)
    relock_after_idle(shipping)

    # Every scan of the shift came down a serial line, and none waits in the inbox.
    conn = sqlite3.connect(plant)
    try:
        sources = conn.execute(
            "SELECT DISTINCT source FROM scan_journal WHERE scanner LIKE '%-local'"
        ).fetchall()
        rejected = conn.execute(
            "SELECT COUNT(*) FROM scan_journal j JOIN scan_outcomes o ON o.scan = j.id "
            "WHERE j.scanner LIKE '%-local' AND o.status != 'accepted'"
        ).fetchone()[0]
    finally:
        conn.close()
    assert sources == [("serial",)]
    assert rejected == 1  # the scan after sign-out
    check_passes(plant)
