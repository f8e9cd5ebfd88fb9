"""The Inbox screen (SPEC §3, §5): rejected scans wait here for a supervisor.

Owns the list of rejected scans that nobody has resolved yet (newest first: when,
station, what was scanned, why it was refused), and the two ways out of it: replay
(after the master data was fixed, the scan runs again in the context it was
scanned in) or dismiss with a note. Both need a supervisor badge, typed or scanned
into the supervisor dialog, and run db.inbox's `replay_scan` / `dismiss_scan` in a
thread worker; the pipeline checks the role and keeps who did it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Header, Static
from textual.widgets.data_table import RowDoesNotExist
from textual.worker import Worker, WorkerState

from db import inbox
from db.connection import now_ms as wall_clock
from db.inbox import RejectedScan
from db.roles import require_role
from db.times import clock_time
from tui.dialogs import Act, Done, SupervisorDialog, SupervisorForm
from tui.floor_screen import NARROW_OR_WIDE, FloorScreen
from tui.formatting import cut
from tui.plain import as_text, visible
from tui.widgets.columns import set_columns
from tui.widgets.key_bar import KeyBar
from tui.widgets.text_input import TextInput

Action = Literal["replay", "dismiss"]

FILTER_HINT = "filter: station or reason words; >2h or >1d for older ones (/ to type here)"
_AGE_UNITS_MS = {"m": 60_000, "h": 3_600_000, "d": 86_400_000}


@dataclass(frozen=True)
class InboxFilter:
    """What the supervisor typed to narrow the inbox: words that must each appear in the
    station or the reason (any case), and `>2h` / `>1d` / `>30m` for older scans only."""

    text: str = ""
    words: tuple[str, ...] = ()
    older_than_ms: int = 0

    @classmethod
    def read(cls, text: str) -> InboxFilter:
        words: list[str] = []
        older = 0
        for token in text.lower().split():
            amount, unit = token[1:-1], token[-1:]
            if token.startswith(">") and unit in _AGE_UNITS_MS and amount.isdigit():
                older = int(amount) * _AGE_UNITS_MS[unit]
            else:
                words.append(token)
        return cls(text.strip(), tuple(words), older)

    @property
    def active(self) -> bool:
        return bool(self.words) or self.older_than_ms > 0

    def lets_through(self, scan: RejectedScan, now_ms: int) -> bool:
        if self.older_than_ms and now_ms - scan.time_ms < self.older_than_ms:
            return False
        where = f"{scan.station} {scan.reason} {scan.raw}".lower()
        return all(word in where for word in self.words)


@dataclass(frozen=True)
class InboxView:
    """What `load` read: the newest unresolved rejections and how many there are."""

    scans: list[RejectedScan]
    total: int


class InboxScreen(FloorScreen):
    """Rejected scans not yet resolved; a supervisor replays or dismisses them."""

    TITLE = "Inbox"
    CSS_PATH = "floor.tcss"
    AUTO_FOCUS = "#inbox-table"
    HORIZONTAL_BREAKPOINTS = NARROW_OR_WIDE
    BINDINGS = [
        Binding("r", "replay", "Replay", id="replay"),
        Binding("d", "dismiss_scan", "Dismiss", id="dismiss"),
        Binding("D", "dismiss_shown", "Dismiss all shown", id="dismiss_shown"),
        Binding("slash", "focus_filter", "Filter", id="focus_filter"),
    ]

    def __init__(self, db_path: str, *, now_ms: Callable[[], int] | None = None) -> None:
        super().__init__(db_path)
        self._now = now_ms or wall_clock
        self._view: InboxView | None = None
        self._filter = InboxFilter()

    # ------------------------------------------------------------ widgets

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#inbox-table", DataTable)

    @property
    def heading(self) -> Static:
        return self.query_one("#inbox-heading", Static)

    @property
    def detail(self) -> Static:
        return self.query_one("#inbox-detail", Static)

    @property
    def filter_input(self) -> TextInput:
        return self.query_one("#inbox-filter", TextInput)

    @property
    def scans(self) -> list[RejectedScan]:
        """The rejected scans on show (those the filter lets through), newest first."""
        if self._view is None:
            return []
        now = self._now()
        return [scan for scan in self._view.scans if self._filter.lets_through(scan, now)]

    @property
    def selected_scan(self) -> RejectedScan | None:
        """The scan under the cursor."""
        table = self.table
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((scan for scan in self.scans if str(scan.id) == key), None)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Reading the inbox…", id="inbox-heading", classes="floor-heading")
        yield TextInput(placeholder=FILTER_HINT, id="inbox-filter")
        yield DataTable(id="inbox-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="inbox-detail")
        yield KeyBar()

    # ------------------------------------------------------------ reading

    def load(self, conn: sqlite3.Connection) -> InboxView:
        scans, total = inbox.rejected_scans(conn)
        return InboxView(scans, total)

    def show(self, result: InboxView) -> None:
        could_act = self.check_action("replay", ())
        self._view = result
        self.redraw()
        # Only when the footer's keys change: redrawing it costs tens of ms, and every
        # commit on the floor re-reads the inbox.
        if self.check_action("replay", ()) != could_act:
            self.refresh_bindings()

    # ------------------------------------------------------------ drawing

    def redraw(self) -> None:
        view = self._view
        if view is None:
            return
        if view.total == 0:
            self.heading.update("No rejected scans wait for a supervisor")
        else:
            shown = f" (newest {len(view.scans)} shown)" if view.total > len(view.scans) else ""
            self.heading.update(
                f"{view.total} rejected scan{'s' if view.total != 1 else ''} wait for a "
                f"supervisor{shown} · fix the master data, then replay; or dismiss with a note"
            )
        shown_scans = self.scans
        if self._filter.active:
            self.heading.update(
                f"{len(shown_scans)} of {view.total} rejected scans match the filter · "
                "D dismisses them all with one note"
            )
        table = self.table
        wide = self.wide
        columns = [("time", "When"), ("station", "Station")]
        if wide:
            columns.append(("source", "From"))
        columns += [("raw", "Scanned"), ("reason", "Why it was refused")]
        set_columns(table, columns)
        now = self._now()
        # The reason gets whatever width the other columns leave (each has 2 of padding).
        times = [clock_time(scan.time_ms, now_ms=now) for scan in shown_scans]
        longest = max((len(visible(s.raw)) for s in shown_scans), default=7)
        raw_width = min(40 if wide else 18, longest)
        used = [
            max(map(len, times), default=4),
            max((len(visible(s.station)) for s in shown_scans), default=7),
            raw_width,
        ]
        if wide:
            used.append(max((len(visible(s.scanner or s.source)) for s in shown_scans), default=4))
        reason_width = max(18, self.size.width - sum(width + 2 for width in used) - 6)
        with table.prevent(DataTable.RowHighlighted):
            selected = None
            if table.row_count:
                selected = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
            table.clear()
            for scan, time in zip(shown_scans, times, strict=True):
                cells = [Text(time), as_text(scan.station)]
                if wide:
                    cells.append(as_text(scan.scanner or scan.source))
                cells += [
                    as_text(cut(scan.raw, raw_width), style="bold"),
                    as_text(cut(scan.reason, reason_width)),
                ]
                table.add_row(*cells, key=str(scan.id))
            if selected is not None:
                try:
                    table.move_cursor(row=table.get_row_index(selected), scroll=True)
                except RowDoesNotExist:
                    pass
        self._draw_detail()

    def _draw_detail(self) -> None:
        scan = self.selected_scan
        if scan is None:
            self.detail.display = False
            return
        self.detail.display = True
        source = f"scanner {scan.scanner}" if scan.scanner else scan.source
        tries = scan.failed_replays
        replay = f" · replayed {tries} time{'s' if tries != 1 else ''}, refused" if tries else ""
        size = f" · {scan.raw_length} bytes, the head kept" if scan.truncated else ""
        text = Text.assemble(
            (f"Scan {scan.id}", "bold"),
            as_text(f" at {scan.station} from {source}{replay}{size}"),
            "\n",
            ("Scanned: ", "dim"),
            as_text(scan.raw, "bold"),
            "\n",
            ("Refused: ", "dim"),
            as_text(scan.reason),
        )
        if scan.last_replay_reason:
            text.append("\nLast replay: ", "dim")
            text.append_text(as_text(scan.last_replay_reason))
        self.detail.update(text)

    @on(DataTable.RowHighlighted, "#inbox-table")
    def _highlighted(self) -> None:
        self._draw_detail()

    # ------------------------------------------------------------ actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("replay", "dismiss_scan", "dismiss_shown"):
            # Shown while there is something to act on; greyed out on an empty inbox.
            return True if self.scans else None
        return True

    def action_replay(self) -> None:
        scan = self.selected_scan
        if scan is None:
            return
        self._ask("replay", scan)

    def action_dismiss_scan(self) -> None:
        scan = self.selected_scan
        if scan is None:
            return
        self._ask("dismiss", scan)

    def action_focus_filter(self) -> None:
        self.filter_input.focus()

    @on(TextInput.Changed, "#inbox-filter")
    def _filter_changed(self, event: TextInput.Changed) -> None:
        self._filter = InboxFilter.read(event.value)
        self.redraw()
        self.refresh_bindings()

    @on(TextInput.Submitted, "#inbox-filter")
    def _filter_done(self) -> None:
        self.table.focus()

    def action_dismiss_shown(self) -> None:
        shown = self.scans
        if not shown:
            return
        ids = [scan.id for scan in shown]
        what = f"{len(ids)} rejected scan{'s' if len(ids) != 1 else ''}"
        if self._filter.active:
            what += f" matching {self._filter.text!r}"

        def act(conn: sqlite3.Connection, form: SupervisorForm) -> Done:
            inbox.dismiss_scans(conn, ids, by=form.badge, note=form.reason)
            return Done(f"{what} dismissed")

        prompt = SupervisorDialog(
            f"Dismiss {what}",
            "Each keeps the one note, with your badge.",
            db_path=self.db_path,
            act=act,
            reason_hint="Why are they dismissed? (kept with each scan)",
            confirm_label="Dismiss all",
        )

        def answered(done: Done | None) -> None:
            if done is not None:
                self.notify(done.message)
                self.reload()

        self.app.push_screen(prompt, answered)

    def _ask(self, action: Action, scan: RejectedScan) -> None:
        what = (f"Scan {scan.id} at {visible(scan.station)}: {cut(scan.raw, 40)}", scan.reason)
        if action == "replay":
            prompt = SupervisorDialog(
                "Replay the scan", what, db_path=self.db_path, act=_replay(scan.id), reason="none"
            )
        else:
            prompt = SupervisorDialog(
                "Dismiss the scan",
                what,
                db_path=self.db_path,
                act=_dismiss(scan.id),
                reason_hint="Why is it dismissed? (kept with the scan)",
                confirm_label="Dismiss",
            )

        def answered(done: Done | None) -> None:
            if done is not None:
                self.notify(done.message, severity="warning" if done.warning else "information")
                # The app's watcher would notice the commit too; this screen need not wait.
                self.reload()

        self.app.push_screen(prompt, answered)

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.notify(
                f"{event.worker.name} failed: {event.worker.error}",
                title="Something went wrong",
                severity="error",
            )


def _replay(scan_id: int) -> Act:
    def act(conn: sqlite3.Connection, form: SupervisorForm) -> Done:
        # The pipeline checks the role too; asking first refuses before any write.
        require_role(conn, form.badge, "replay")
        result = inbox.replay_scan(conn, scan_id, by=form.badge)
        if result.status == "accepted":
            return Done(f"Scan {scan_id} replayed: {result.message}")
        return Done(f"Scan {scan_id} was refused again: {result.message}", warning=True)

    return act


def _dismiss(scan_id: int) -> Act:
    def act(conn: sqlite3.Connection, form: SupervisorForm) -> Done:
        require_role(conn, form.badge, "replay")
        inbox.dismiss_scan(conn, scan_id, by=form.badge, note=form.reason)
        return Done(f"Scan {scan_id} dismissed")

    return act
