"""The head of the scan station screen: who is signed in, in letters read from across
the work cell (or that nobody is: scan your badge), the session's context in plain
words, and the banner saying one of the station's own scanners is not reaching the
record.

Each only draws what the station screen (tui/screens/scan.py) read, and redraws only
when its words change: every commit on the floor re-reads the station, and each
update re-lays out the screen (a few ms a line).
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.widgets import Static

from db.quantity import text as qty_text
from db.scanners import ScannerRow
from db.stations import StationView
from db.times import clock_time
from tui.plain import as_text
from tui.widgets.big_text import big_text

NOBODY = "nobody signed in — scan your badge"
SCAN_YOUR_BADGE = "SCAN YOUR BADGE"


class SignedIn(Vertical):
    """Who is signed in at the station: the name three lines tall, the badge below.

    With nobody signed in it says so, and why when the idle time signed someone out
    (db/idle.py): "signed out (idle)". A name with a letter the big font lacks, or too
    wide for the screen, is shown in ordinary bold letters instead."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self._shown: tuple[object, ...] | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="signed-in-name")
        yield Static("", id="signed-in-note")

    def show(self, name: str | None, badge: str | None, signed_out: str | None) -> None:
        """Draw who is signed in (`badge` None: nobody; `signed_out`: the idle time's words)."""
        width = self.content_size.width or self.app.size.width
        state = (name, badge, signed_out, width)
        if state == self._shown:
            return
        self._shown = state
        big_name = self.query_one("#signed-in-name", Static)
        note = self.query_one("#signed-in-note", Static)
        self.set_class(badge is None, "-nobody")
        self.set_class(badge is None and signed_out is not None, "-idle")
        if badge is None:
            big_name.update(_big_or_plain(SCAN_YOUR_BADGE, width))
            words = NOBODY
            if signed_out:
                words = f"signed out (idle): {signed_out} — scan your badge"
            note.update(as_text(words))
            return
        shown = name or badge
        big_name.update(_big_or_plain(shown, width))
        note.update(as_text(f"signed in: {shown} · badge {badge}"))

    def redraw(self) -> None:
        """Draw again at the widget's width (after a resize)."""
        if self._shown is not None:
            name, badge, signed_out, _ = self._shown
            self._shown = None
            self.show(name, badge, signed_out)  # type: ignore[arg-type]


class SessionContext(Grid):
    """The session in plain words: mode, operator, work order, location, what the next
    action takes (QTY, LOT, the number pad's number) and the station's stage."""

    LABELS = (
        ("mode", "MODE"),
        ("operator", "OPERATOR"),
        ("work_order", "WORK ORDER"),
        ("location", "LOCATION"),
        ("next", "NEXT"),
        ("stage", "STAGE"),
    )

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self._said: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        for key, label in self.LABELS:
            yield Static(label, classes="context-label")
            yield Static("—", id=f"context-{key}", classes="context-value")

    def show(self, view: StationView) -> None:
        operator = f"{view.operator_name} ({view.operator})" if view.operator_name else "nobody"
        order = view.work_order or "—"
        if view.work_order and view.work_order_product:
            order = f"{view.work_order} {view.work_order_product}"
        here = view.location or view.station.location or "—"
        if view.to_location:
            here = f"{view.location} → {view.to_location}"
        after = []
        if view.qty_milli is not None:
            after.append(f"QTY {qty_text(view.qty_milli)}")
        if view.typed_qty is not None:
            after.append(f"QTY {view.typed_qty} (number pad)")
        if view.lot:
            after.append(f"LOT {view.lot}")
        if view.reason:
            after.append(f"REASON {view.reason}")
        self._set("mode", view.mode)
        self._set("operator", operator if view.operator else "nobody signed in")
        self._set("work_order", order)
        self._set("location", here)
        self._set("next", " · ".join(after) or "QTY 1")
        self._set("stage", view.station.stage or "—")

    def _set(self, key: str, words: str) -> None:
        if self._said.get(key) != words:
            self._said[key] = words
            self.query_one(f"#context-{key}", Static).update(as_text(words))


def _big_or_plain(words: str, width: int) -> Text:
    lines = big_text(words)
    if lines is None or len(lines[0]) > width:
        return as_text(words, "bold")
    return Text("\n".join(lines))


class ScannerBanner(Static):
    """A banner while one of this station's own scanners is not reaching the record.

    Found: the scan screen never said its scanner was gone; people scanned on and
    nothing arrived. The screen redraws it on its timer too, since a reader that died
    says nothing: its heartbeat just grows old (db.scanners' one rule)."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__("", id=id)
        self._said = ""

    def show(self, scanners: Sequence[ScannerRow], now_ms: int) -> bool:
        """Say which scanners are lost or have no reader; whether any is."""
        words = []
        for row in scanners:
            link = row.link(now_ms)
            since = clock_time(row.updated_ms, now_ms=now_ms)
            if link == "lost":
                words.append(
                    f"⚠ scanner {row.name} lost since {since}: its scans are not arriving. "
                    "Check its cable, type the barcode here, or tell a supervisor"
                )
            elif link == "no_reader":
                words.append(
                    f"⚠ scanner {row.name}: no reader since {since}, its scans are not "
                    "arriving. Type the barcode here and tell a supervisor"
                )
        said = " · ".join(words)
        if said != self._said:
            self._said = said
            self.update(as_text(said))
        return bool(words)
