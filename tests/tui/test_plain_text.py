"""Text is never code: what comes from a scan, a CSV or the database shows as text.

A plant whose every master-data text field holds a hostile string (Textual markup that
would be a link or close a tag it never opened, terminal escapes that retitle or clear
the screen, a bidi override, a C1 control) gets scans, postings, holds and a scanner
with such words. Then every screen of the real app is drawn into the bytes a terminal
would receive, and checked: each hostile string shows literally (controls as their
visible escape, as tui.plain writes them), no control byte but colour codes reaches the
terminal, every line still fills the screen, and clicking the words runs nothing.
The command line's reports and the real app in tmux are checked the same way.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len
from rich.console import Console
from rich.text import Text
from textual import events
from textual.pilot import Pilot
from textual.widgets import Input

from db import supervision
from db.masterdata import import_dir
from db.pipeline import ScanInput, process_batch
from db.scanners import record_scanner
from db.schema import init_db
from tests.conftest import make_app, settle, wait_until
from tests.e2e.terminal import Terminal
from tui.app import ShopfloorApp
from tui.plain import as_text, json_text, visible

pytestmark = pytest.mark.timeout(90)

ROOT = Path(__file__).resolve().parents[2]
SHOPFLOOR = str(Path(sys.executable).parent / "shopfloor")

CLICK = "[@click=app.suspend_process]x[/]"
TITLE = "\x1b]0;pwned\x07"
CLEAR = "\x1b[2J"
RLO = "\u202eevil"
CSI = "\x9b31m"

# Master data as tests/plant has it, each text below replaced by a hostile one.
HOSTILE_NAMES = {
    "Wall bracket": "Bracket [/] end",
    "Junction box": CLICK,
    "Steel sheet": f"Sheet {TITLE}",
    "Gasket": "[b]bold gasket",
    "Powder coat": f"Coat {RLO}",
    "Spare part": f"Spare {CSI}",
    "Stores bin 1": f"Bin {CLEAR} one",
    "Cutting WIP": "[/]cut wip",
    "Receiving dock": "[b]dock",
    "Ana Store": f"Ana {TITLE}",
    "Otto Operator": "Otto [@click=app.suspend_process]op[/]",
    "Cutting": f"Cut {RLO}",
    "Assembly": "[/]",
    "Stores window": "Stores [b]window",
    "Cutting cell": f"Cut {CSI} cell",
    "WO1": "WO1[/]",
    # Codes with control characters are refused at import (tests/db/test_import.py):
    # the codes here carry markup instead.
    "WO2": "WO2[red]",
    "S1": "S1[b]",
    "X1": "X[/]1",
}
ORDER = "WO1[/]"
LATE_ORDER = "WO2[red]"
BIN = "S1[b]"
HOLD_REASON = f"hold {TITLE} [/]"
RELEASE_REASON = CLICK
DUE_REASON = f"due {CLEAR} {RLO}"
SCANNER = f"scan{CSI}[/]"
SCANNER_URL = f"/dev/{TITLE}"
SCANNER_ERROR = f"lost {CLEAR} [/]"

# Colour codes, the cursor put at each line's start and OSC 8 links are the only escapes
# a drawn screen may hold.
_ALLOWED_ESCAPES = re.compile(r"\x1b\[[0-9;:]*m|\x1b\[[0-9]+;1H|\x1b]8;[^\x1b\x07]*(?:\x1b\\|\x07)")
# Controls but the newline, and the invisible and bidi characters tui.plain escapes.
_NOT_TEXT = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]"
)


def _rewrite(folder: Path, name: str) -> None:
    path = folder / name
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, list(rows[0]))
        writer.writeheader()
        writer.writerows([{k: HOSTILE_NAMES.get(v, v) for k, v in row.items()} for row in rows])


def _scan(conn: Any, station: str, *codes: str | bytes) -> list[str]:
    inputs = [
        ScanInput(station=station, raw=c if isinstance(c, bytes) else c.encode(), source="command")
        for c in codes
    ]
    return [r.status for r in process_batch(conn, inputs)]


def build_hostile_plant(folder: Path) -> Path:
    """tests/plant with hostile words everywhere, and a morning's scans using them."""
    csvs = folder / "csv"
    shutil.copytree(ROOT / "tests" / "plant", csvs)
    for path in csvs.glob("*.csv"):
        _rewrite(csvs, path.name)
    db_path = folder / "plant.db"
    conn = init_db(db_path)
    import_dir(conn, str(csvs))
    received = ["B-STORE", "QTY:5", f"LOT:{CLICK}", "C2", BIN, "QTY:9", f"LOT:{CLICK}", "C2"]
    assert _scan(conn, "RECV", *received, "QTY:20", "C1") == ["accepted"] * 10
    issued = ["B-STORE", ORDER, "QTY:3", "C1", "QTY:2", f"LOT:{CLICK}", "C2"]
    # ...and the station waits with a lot that closes a tag it never opened.
    assert _scan(conn, "STORES", *issued, "LOT:[/]") == ["accepted"] * 8
    # Read as they came off the wire: escapes, a C1 control, an unknown code with markup.
    assert (
        _scan(conn, "STORES", TITLE.encode(), CLEAR.encode(), "[/]unknown", CSI.encode())
        == ["rejected"] * 4
    )
    # Noise is not a supervisor's to fix: the same bytes wait in the inbox only where a
    # supervisor has something to do, at a scanner whose station nobody set up.
    assert _scan(conn, "DOCK-9", TITLE.encode(), CLEAR.encode(), CSI.encode()) == ["rejected"] * 3
    assert (
        _scan(conn, "CUT-1", "B-OP", ORDER, "QTY:2", "CMD:DONE", f"LOT:{CLICK}") == ["accepted"] * 5
    )
    # A station whose words are all valid markup: a lot that would be a link.
    assert _scan(conn, "ASSY-1", "B-OP", "WO-THREE", f"LOT:{CLICK}") == ["accepted"] * 3
    supervision.set_hold(conn, ORDER, True, by="B-SUP", reason=HOLD_REASON)
    supervision.set_hold(conn, ORDER, False, by="B-SUP", reason=RELEASE_REASON)
    supervision.change_due_date(conn, ORDER, "2030-02-01", by="B-COORD", reason=DUE_REASON)
    record_scanner(
        conn, SCANNER, station="CUT-1", url=SCANNER_URL, connected=False, error=SCANNER_ERROR
    )
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return db_path


@pytest.fixture(scope="module")
def hostile_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_hostile_plant(tmp_path_factory.mktemp("hostile"))


@pytest.fixture
def hostile_db(tmp_path: Path, hostile_template: Path) -> str:
    path = tmp_path / "plant.db"
    shutil.copy(hostile_template, path)
    path.chmod(0o600)
    return str(path)


# ---------------------------------------------------------------- the helper


def test_visible_escapes_what_a_terminal_would_act_on_and_keeps_the_rest() -> None:
    assert visible(TITLE) == "\\x1b]0;pwned\\x07"
    assert visible(CLEAR) == "\\x1b[2J"
    assert visible(RLO) == "\\u202eevil"
    assert visible(CSI) == "\\x9b31m"
    assert visible("a\u200bb\u2028c\u2066d\x7f\te\U000e0041") == (
        "a\\u200bb\\u2028c\\u2066d\\x7f\\x09e\\U000e0041"
    )
    # Markup, accents, other scripts, emoji and the no-break space are text already.
    for text in (CLICK, "[b]bold", "Müller ø Ω 日本 😀", "1\u00a0000", ""):
        assert visible(text) == text


def test_as_text_is_never_markup_and_keeps_its_styles() -> None:
    assert as_text(CLICK).plain == CLICK
    assert as_text(CLICK).spans == []
    styled = as_text(Text.assemble(("A\x1b", "bold"), "x", ("z", "red")))
    assert styled.plain == "A\\x1bxz"
    assert [(s.start, s.end, str(s.style)) for s in styled.spans] == [
        (0, 5, "bold"),
        (6, 7, "red"),
    ]


def test_json_output_escapes_every_hidden_character_and_reads_back_the_same() -> None:
    payload = {"raw": f"{TITLE}{CSI}{RLO}\U000e0041 ü", "n": [1, None]}
    out = json_text(payload)
    assert not _NOT_TEXT.search(out.replace("\n", "")), repr(out)
    assert "ü" in out  # UTF-8 stays readable
    assert json.loads(out) == payload


# ---------------------------------------------------------------- every screen


def drawn(app: ShopfloorApp) -> tuple[str, list[str]]:
    """What the terminal receives for the screen now (the bytes), and its lines as text."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        record=True,
        legacy_windows=False,
        safe_box=False,
    )
    # As App.export_screenshot draws it.
    console.print(app.screen._compositor.render_update(full=True))
    stream = console.file.getvalue()  # type: ignore[attr-defined]
    return stream, console.export_text(styles=False).splitlines()


def check_screen(app: ShopfloorApp, *literals: str) -> str:
    """The screen's text, after checking it shows `literals` and carries no control."""
    stream, lines = drawn(app)
    rest = _ALLOWED_ESCAPES.sub("", stream).replace("\r", "")
    leaked = [rest[max(0, m.start() - 20) : m.end() + 20] for m in _NOT_TEXT.finditer(rest)]
    assert not leaked, f"control characters reach the terminal: {leaked!r}"
    width = app.size.width
    for line in lines:
        assert cell_len(line) == width, f"a line does not fill the screen: {line!r}"
    text = "\n".join(lines)
    for literal in literals:
        assert visible(literal) in text, f"{visible(literal)!r} not on screen:\n{text}"
    return text


@pytest.fixture
def suspended(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every time anything asked the app to suspend to a shell."""
    calls: list[str] = []
    monkeypatch.setattr(ShopfloorApp, "action_suspend_process", lambda self: calls.append("!"))
    return calls


async def paste(pilot: Pilot[Any], selector: str, text: str) -> None:
    """`text` pasted into the input, as a terminal's bracketed paste delivers it."""
    pilot.app.screen.query_one(selector, Input).focus()
    pilot.app.post_message(events.Paste(text))
    await settle(pilot)


async def click_every_cell(pilot: Pilot[Any], selector: str) -> None:
    widget = pilot.app.screen.query_one(selector)
    for x in range(widget.size.width):
        await pilot.click(selector, offset=(x, 0))
    await pilot.pause()


async def test_station_shows_a_hostile_lot_as_text_and_its_link_does_nothing(
    hostile_db: str, suspended: list[str]
) -> None:
    app = make_app(hostile_db, live=False, station="ASSY-1")
    async with app.run_test(size=(160, 40), notifications=True) as pilot:
        await settle(pilot)
        # Markup would make "x" and "op" links that suspend the app to a shell.
        await click_every_cell(pilot, "#context-next")
        await click_every_cell(pilot, "#context-operator")
        assert suspended == []
        check_screen(
            app,
            f"LOT {CLICK}",
            "Otto [@click=app.suspend_process]op[/] (B-OP)",
            "WO3 P2",
            f"lot {CLICK} for the next action",
        )


async def test_station_waiting_with_a_lot_that_closes_no_tag_still_works(
    hostile_db: str,
) -> None:
    app = make_app(hostile_db, live=False, station="STORES")
    async with app.run_test(size=(160, 40), notifications=True) as pilot:
        await settle(pilot)
        check_screen(
            app,
            "LOT [/]",
            f"Ana {TITLE} (B-STORE)",
            TITLE,  # the rejected reads in the log, as read
            CLEAR,
            CSI,
            "[/]unknown",
        )
        # The screen is alive: a scan typed now is taken, and the lot is let go.
        await pilot.press(*"CMD:CANCEL", "enter")
        next_up = app.screen.query_one("#context-next")
        await wait_until(pilot, lambda: str(next_up.render()) == "QTY 1")
        await settle(pilot)
        check_screen(app, "CMD:CANCEL")


async def test_station_picker_lists_hostile_station_names_as_text(hostile_db: str) -> None:
    app = make_app(hostile_db, live=False)
    async with app.run_test(size=(160, 40), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        check_screen(app, "Stores [b]window", f"Cut {CSI} cell")


async def test_board_shows_hostile_orders_as_text_and_a_pasted_filter_too(
    hostile_db: str,
) -> None:
    app = make_app(hostile_db, live=False)
    async with app.run_test(size=(200, 50), notifications=True) as pilot:
        await settle(pilot)
        # The board's order column is 8 wide: the escape shows, cut with an ellipsis.
        check_screen(app, ORDER, "Bracket [/] end", CLICK[:20], LATE_ORDER)
        await paste(pilot, "#board-filter", f"{TITLE}WO\nthe next line")
        check_screen(app, f"{TITLE}WO")


async def test_order_of_an_item_described_with_a_closing_tag_shows_it_and_its_dialogs(
    hostile_db: str, suspended: list[str]
) -> None:
    app = make_app(hostile_db, live=False)
    async with app.run_test(size=(200, 50), notifications=True) as pilot:
        await settle(pilot)
        await app.open_order(ORDER)
        await settle(pilot)
        check_screen(app, f"ORDER {ORDER}", "Bracket [/] end")
        tabs = app.screen.query_one("#order-tabs")
        for tab, literals in (
            ("tab-material", ["[b]bold gasket", f"Sheet {TITLE}", f"Coat {RLO}"]),
            ("tab-movements", [CLICK, BIN, "B-STORE"]),
            ("tab-scans", [f"completed 2 of {ORDER} at CUT"]),
            ("tab-history", [HOLD_REASON, RELEASE_REASON, DUE_REASON]),
        ):
            tabs.active = tab  # type: ignore[attr-defined]
            await settle(pilot)
            check_screen(app, *literals)
        await click_every_cell(pilot, "#order-title")
        for key in ("d", "h", "x"):
            await pilot.press(key)
            await settle(pilot)
            check_screen(app, ORDER)
            await paste(pilot, "#dialog-reason", f"why {CLEAR}")
            check_screen(app, f"why {CLEAR}")
            await pilot.press("escape")
            await settle(pilot)
        assert suspended == []


async def test_stock_stages_inbox_and_devices_show_hostile_words_as_text(
    hostile_db: str,
) -> None:
    app = make_app(hostile_db, live=False)
    async with app.run_test(size=(200, 50), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        stock = app.screen
        stock.show_code("C2")  # type: ignore[attr-defined]
        await settle(pilot)
        check_screen(app, "[b]bold gasket", CLICK, "[b]dock")
        stock.show_code(BIN)  # type: ignore[attr-defined]
        await settle(pilot)
        check_screen(app, f"{BIN}  Bin {CLEAR} one")
        stock.show_code("X[/]1")  # type: ignore[attr-defined]
        await settle(pilot)
        check_screen(app, "X[/]1", f"Spare {CSI}")
        stock.show_code(f"[/]{TITLE}")  # type: ignore[attr-defined]
        await settle(pilot)
        told = visible(f"No item or location has the code [/]{TITLE}")
        await wait_until(pilot, lambda: told in "\n".join(drawn(app)[1]))
        check_screen(app, told)

        await pilot.press("f4")
        await settle(pilot)
        check_screen(app, f"Cut {RLO}", "[/]", ORDER)

        await pilot.press("f5")
        await settle(pilot)
        check_screen(app, TITLE, CLEAR, CSI, "[/]unknown", "unknown barcode '[/]unknown'")
        await pilot.press("r")
        await settle(pilot)
        check_screen(app, "Replay the scan")
        await pilot.press("escape")

        await pilot.press("f6")
        await settle(pilot)
        check_screen(app, SCANNER, SCANNER_URL, SCANNER_ERROR)


async def test_palette_offers_hostile_codes_as_text(hostile_db: str) -> None:
    app = make_app(hostile_db, live=False)
    async with app.run_test(size=(160, 40), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"X[")
        await wait_until(pilot, lambda: "X[/]1" in "\n".join(drawn(app)[1]))
        check_screen(app, f"X[/]1  Spare {CSI}")
        await pilot.press(*"/]1")
        await settle(pilot)


# ---------------------------------------------------------------- the command line


def run(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([SHOPFLOOR, *args], capture_output=True, timeout=60, check=False)


def assert_plain(output: bytes) -> str:
    text = output.decode("utf-8")
    leaked = _NOT_TEXT.findall(text.replace("\n", ""))
    assert not leaked, f"control characters in the output: {leaked!r}\n{text}"
    return text


@pytest.mark.parametrize(
    ("command", "literals"),
    [
        (["scans"], [TITLE, CLEAR, CSI, f"signed in Ana {TITLE}", f"LOT:{CLICK}"]),
        (["movements"], [CLICK, BIN]),
        (["stock"], [CLICK, BIN]),
        (["status"], [ORDER, LATE_ORDER]),
    ],
)
def test_reports_show_hostile_words_as_text(
    hostile_db: str, command: list[str], literals: list[str]
) -> None:
    done = run(*command, "--db", hostile_db)
    assert done.returncode == 0, done.stderr
    text = assert_plain(done.stdout)
    for literal in literals:
        assert visible(literal) in text, text
    as_json = run(*command, "--db", hostile_db, "--json")
    assert as_json.returncode == 0, as_json.stderr
    assert_plain(as_json.stdout)
    json.loads(as_json.stdout)


def test_scan_command_answers_in_plain_text(hostile_db: str) -> None:
    done = run("scan", "--db", hostile_db, "--station", "RECV", "B-STORE", f"LOT:{CLICK}", TITLE)
    assert done.returncode == 1  # the escape sequence is no barcode
    text = assert_plain(done.stdout)
    assert visible(f"signed in Ana {TITLE}") in text
    assert visible(TITLE) in text
    assert_plain(done.stderr)


def test_errors_quote_hostile_input_as_text(tmp_path: Path, hostile_db: str) -> None:
    missing = str(tmp_path / f"no{TITLE}.db")
    done = run("status", "--db", missing)
    assert done.returncode == 1
    assert visible(TITLE) in assert_plain(done.stderr)
    bad = tmp_path / "items.csv"
    bad.write_text(f"sku,description,lot_tracked\nA{CLEAR},thing,{TITLE}\n", encoding="utf-8")
    done = run("import", "--db", hostile_db, "items", str(bad))
    assert done.returncode == 1
    # The first fault found is the sku's control character, quoted as text.
    assert visible(f"A{CLEAR}") in assert_plain(done.stderr)
    done = run("scans", "--db", hostile_db, "--status", TITLE)
    assert done.returncode == 2
    assert visible(TITLE) in assert_plain(done.stderr)


# ---------------------------------------------------------------- the real terminal


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    if shutil.which("tmux") is None:
        raise AssertionError("this test drives the real terminal app through tmux: install it")
    term = Terminal(tmp_path)
    yield term
    term.stop()


def test_scanned_escapes_neither_retitle_nor_clear_the_real_terminal(
    terminal: Terminal, hostile_db: str
) -> None:
    terminal.start(["--db", hostile_db, "--station", "ASSY-1"])
    terminal.wait_text("SCAN · ASSY-1", "WO3 P2")
    title = terminal.tmux("display", "-p", "-t", terminal.session, "#{pane_title}").strip()
    # Another process reads escapes off the wire while the station is on screen.
    done = run("scan", "--db", hostile_db, "--station", "ASSY-1", f"{TITLE}again", f"x{CLEAR}")
    assert done.returncode == 1
    terminal.wait_text("not a barcode: contains control characters")
    now = terminal.tmux("display", "-p", "-t", terminal.session, "#{pane_title}").strip()
    assert now == title, f"the terminal was retitled {now!r}"
    screen = terminal.wait_text(visible(f"{TITLE}again"), visible(f"x{CLEAR}"), f"LOT {CLICK}")
    # Not cleared: the station's words are all still there, as they were written.
    for words in ("SCAN · ASSY-1", "Otto [@click=app.suspend_process]op[/] (B-OP)", "WO3 P2"):
        assert words in screen, screen
    # A lot that closes a tag it never opened shows as it was scanned.
    assert run("scan", "--db", hostile_db, "--station", "ASSY-1", "LOT:[/]").returncode == 0
    terminal.wait_text("LOT [/]", "✓ lot [/] for the next action")
