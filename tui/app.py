"""The shopfloor app: its screens as modes, its keys, the kiosk lock, and live refresh.

`create_app` is the one factory the command line and the tests share. Each screen is
a mode with its own stack (the order screen opens on top of the board), F1–F6 switch
between them. A `FloorWatcher` notices other processes' commits and the app hands
`FloorChanged` to the screens on show. With `--scanner URL` the app reads a local
serial scanner itself, through the same pipeline as `shopfloor listen`.

Kiosk mode locks the terminal to the scan station: quitting and leaving the station
screen need a supervisor badge (`leave_kiosk`, checked by db.ledger against the
operator table), and the command palette stays shut. Leaving unlocks the other
screens until the station screen shows again; quitting always asks.

A kiosk never falls to a shell: `run_kiosk` logs an unexpected error to the crash log
beside the database (`<db>.crash.log`) and starts the app again at the station screen,
locked; it exits non-zero only when the app fails again and again within a minute.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import events, on
from textual.app import App
from textual.binding import Binding, BindingType
from textual.reactive import Reactive
from textual.screen import ModalScreen, Screen
from textual.theme import Theme
from textual.widget import AwaitMount

from db.roles import KIOSK_RELOCK_DEFAULT_MIN
from tui.floor_screen import FloorScreen
from tui.messages import FloorChanged, ScannerStateChanged, ScanRecorded, ScansHeld
from tui.plain import visible
from tui.screens.catalog import BY_MODE, KIOSK_MODE, SCREENS, FloorScreenEntry
from tui.watching import FloorClock, FloorPolled, FloorWatcher, LocalScanner

if TYPE_CHECKING:
    from textual.command import Provider
    from textual.notifications import SeverityLevel

    from db.stations import Code


def _floor_commands() -> type[Provider]:
    """The palette's provider, imported when the palette first opens."""
    from tui.palette import FloorCommands

    return FloorCommands


RELOCK_CHECK_S = 1.0  # how often an unlocked kiosk looks at how long it has been idle

HIGH_CONTRAST = Theme(
    name="shopfloor-high-contrast",
    primary="#FFD21F",
    secondary="#5FD7FF",
    accent="#FFD21F",
    warning="#FFB000",
    error="#FF5555",
    success="#3DDC5A",
    foreground="#FFFFFF",
    background="#000000",
    surface="#0E0E0E",
    panel="#1A1A1A",
    boost="#262626",
    dark=True,
    variables={
        "footer-key-foreground": "#FFD21F",
        "block-cursor-background": "#FFD21F",
        "block-cursor-foreground": "#000000",
        "input-cursor-background": "#FFD21F",
        "input-cursor-foreground": "#000000",
    },
)


@dataclass(frozen=True)
class Pending:
    """What a supervisor's badge will let the kiosk do: quit, or show another screen."""

    action: str  # "quit" or a mode name


class ShopfloorApp(App[None]):
    """Work orders, scans and stock for one plant's SQLite file, live."""

    CSS_PATH = "app.tcss"
    TITLE = "shopfloor"
    DEFAULT_CLASSES = f"-theme-{HIGH_CONTRAST.name}"  # as setting `theme` would add it
    # The theme from the app's first style on. Set in __init__ instead, Textual restyles
    # the whole app for the change, re-parsing every stylesheet three times before the
    # first paint.
    theme: Reactive[str] = Reactive(HIGH_CONTRAST.name)
    COMMANDS = App.COMMANDS | {_floor_commands}
    BINDINGS: ClassVar[list[BindingType]] = [
        *(
            Binding(
                entry.key,
                f"go('{entry.mode}')",
                entry.label,
                show=entry.footer,
                id=f"go_{entry.mode}",
            )  # fmt: skip
            for entry in SCREENS
        ),
        Binding("q", "quit", "Quit", id="quit"),
        # Shown, so the way out is on screen while an input holds the focus (and eats q).
        Binding("ctrl+q", "quit", "Quit", id="quit_ctrl", priority=True),
    ]

    def __init__(
        self,
        db_path: str | Path,
        *,
        station: str | None = None,
        kiosk: bool = False,
        scanner_url: str | None = None,
        clock: FloorClock | None = None,
        live: bool = True,
    ) -> None:
        # The first screen is the app's default mode, so Textual builds it as it starts.
        # Switched to from on_mount instead, it replaces an empty default screen, and
        # the switch restyles the whole app twice more before the first paint.
        self.DEFAULT_MODE = KIOSK_MODE if station is not None or kiosk else SCREENS[0].mode  # type: ignore[misc]
        super().__init__()
        self.db_path = str(db_path)
        self.station = station
        self.kiosk = kiosk
        self.scanner_url = scanner_url
        self.clock = clock or FloorClock()
        self.live = live
        # A supervisor's badge unlocks the kiosk until the station screen shows again.
        self.kiosk_unlocked = False
        # An unlocked kiosk locks again after this long without a key or a click; read
        # from the settings when a badge unlocks it.
        self.relock_after_s = KIOSK_RELOCK_DEFAULT_MIN * 60
        self._last_input = time.monotonic()
        self.watcher: FloorWatcher | None = None
        self.local_scanner: LocalScanner | None = None
        # The unexpected error that stopped the app, for the crash log and the restart.
        self.crash: BaseException | None = None
        self.register_theme(HIGH_CONTRAST)
        # Inside a kiosk the palette would offer "Quit" and every screen: it stays shut.
        self.use_command_palette = not kiosk
        for entry in SCREENS:
            self.add_mode(entry.mode, partial(self._new_screen, entry))

    def _new_screen(self, entry: FloorScreenEntry) -> Screen[None]:
        """The base screen of `entry`'s mode, its module imported only now."""
        parts = {
            "clock": self.clock,
            "now_ms": self.clock.now_ms,
            "station": self.station,
            "kiosk": self.kiosk,
        }
        return entry.screen_class()(self.db_path, **{part: parts[part] for part in entry.takes})

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every notification is plain text: its words often quote a code or a scan."""
        super().notify(
            visible(message), title=visible(title), severity=severity, timeout=timeout, markup=False
        )

    @property
    def available_themes(self) -> dict[str, Theme]:
        # App.__init__ styles the app by `theme` before `register_theme` can run.
        return {**super().available_themes, HIGH_CONTRAST.name: HIGH_CONTRAST}

    @property
    def first_mode(self) -> str:
        return self.DEFAULT_MODE

    def on_mount(self) -> None:
        if self.live:
            self.watcher = FloorWatcher(
                self.db_path, lambda version: self.post_message(FloorPolled(version))
            )
            self.watcher.start()
        if self.scanner_url:
            self._start_scanner(self.scanner_url)
        if self.kiosk:
            self.set_interval(RELOCK_CHECK_S, self._relock_if_idle)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseDown):
            self._last_input = time.monotonic()
        await super().on_event(event)

    def _relock_if_idle(self) -> None:
        """Found: an unlocked kiosk stayed unlocked until someone pressed F2."""
        if not self.kiosk_unlocked or isinstance(self.screen, ModalScreen):
            return
        idle = time.monotonic() - self._last_input
        if idle < self.relock_after_s:
            return
        self.notify(f"kiosk locked again after {idle / 60:.0f} idle minutes")
        self.run_worker(self._show_list(KIOSK_MODE), exclusive=True, group="go")
        self.kiosk_unlocked = False

    def on_unmount(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
        if self.local_scanner is not None:
            self.local_scanner.stop()

    def _handle_exception(self, error: Exception) -> None:
        """Keep the error for the crash log; nobody at the terminal gets a traceback.

        Textual ends the app either way; its own traceback (printed as the terminal is
        given back, with the local variables of every frame: badges among them) is dropped.
        """
        if self.crash is None:
            self.crash = error
        super()._handle_exception(error)
        self._exit_renderables.clear()

    # ------------------------------------------------------------ live refresh

    @on(FloorPolled)
    def _floor_polled(self, event: FloorPolled) -> None:
        """Hand the change to the screens a person can see (a dialog may sit on top)."""
        for screen in reversed(self.screen_stack):
            if isinstance(screen, FloorScreen):
                screen.post_message(FloorChanged(event.data_version))
            if not isinstance(screen, ModalScreen):
                break

    @on(ScanRecorded)
    def _scan_recorded(self, event: ScanRecorded) -> None:
        """A scan from the local serial scanner: the station screen shows its outcome."""
        from tui.screens.scan import ScanScreen

        if isinstance(self.screen, ScanScreen):
            self.screen.post_message(
                ScanRecorded(event.scan_id, event.station, event.status, event.message)
            )
        elif event.status == "rejected":
            self.bell()

    @on(ScansHeld)
    def _scans_held(self, event: ScansHeld) -> None:
        """The local scanner's scans wait for the database: the station screen says so."""
        from tui.screens.scan import ScanScreen

        if isinstance(self.screen, ScanScreen):
            held = ScansHeld(event.feed, event.station, event.count, event.reason)
            self.screen.post_message(held)

    @on(ScannerStateChanged)
    def _scanner_state(self, event: ScannerStateChanged) -> None:
        if event.connected:
            self.notify(f"scanner {event.scanner} connected")
        else:
            self.notify(
                f"scanner {event.scanner} lost: {event.error or 'disconnected'}",
                severity="warning",
            )

    def _start_scanner(self, url: str) -> None:
        if self.station is None:
            self.notify("--scanner needs --station: the scans need a station", severity="error")
            return
        self.local_scanner = LocalScanner(
            self.db_path,
            name=f"{self.station.lower()}-local",
            url=url,
            station=self.station,
            post=self.post_message,
        )
        self.local_scanner.start()

    # ------------------------------------------------------------ screens

    async def action_go(self, mode: str) -> None:
        if self._locked() and not BY_MODE[mode].kiosk and mode != self.current_mode:
            self._ask_badge(Pending(mode))
            return
        await self._show_list(mode)

    async def _show_list(self, mode: str) -> None:
        """The screen a key names, as its list: an order opened over the board closes.

        Found: F1 brought back the last order opened, and Enter there acted on it.
        """
        if mode != self.current_mode:
            await self._switch(mode)
        while len(self.screen_stack) > 1 and not isinstance(self.screen, ModalScreen):
            await self.pop_screen()

    def _switch(self, mode: str) -> AwaitMount:
        if BY_MODE[mode].kiosk:
            self.kiosk_unlocked = False  # back at the station, the kiosk locks again
        return self.switch_mode(mode)

    async def open_order(self, number: str) -> None:
        """Show one work order on top of the board (the palette's jump)."""
        from tui.screens.order import OrderScreen

        await self._switch("board")
        self.push_screen(OrderScreen(self.db_path, number, clock=self.clock))

    async def jump(self, code: Code) -> None:
        """Go to what a code names: an order, an item or location in stock, a stage."""
        if code.kind == "work_order":
            await self.open_order(code.code)
            return
        mode = "stages" if code.kind == "stage" else "stock"
        await self._switch(mode)
        show_code = getattr(self.screen, "show_code", None)
        if callable(show_code):
            show_code(code.code)

    # ------------------------------------------------------------ kiosk

    def _locked(self) -> bool:
        return self.kiosk and not self.kiosk_unlocked

    async def action_quit(self) -> None:
        if self.kiosk:
            # Even unlocked: a kiosk left on another screen must not close for anyone.
            self._ask_badge(Pending("quit"))
            return
        self.exit()

    def action_help_quit(self) -> None:
        if self.kiosk:
            self.notify("This terminal is a kiosk: Ctrl+Q and a supervisor badge let it go.")
            return
        super().action_help_quit()

    def _ask_badge(self, pending: Pending) -> None:
        from db.roles import KIOSK_RELOCK_MIN, minutes_setting, require_role
        from tui.dialogs import Done, SupervisorDialog, SupervisorForm

        if isinstance(self.screen, SupervisorDialog):
            return  # already asking
        what = "close this kiosk" if pending.action == "quit" else f"open {pending.action}"

        def act(conn: sqlite3.Connection, form: SupervisorForm) -> Done:
            name = require_role(conn, form.badge, "leave_kiosk")
            self.relock_after_s = 60 * minutes_setting(
                conn, KIOSK_RELOCK_MIN, KIOSK_RELOCK_DEFAULT_MIN
            )
            return Done(name)

        def answered(done: Done | None) -> None:
            if done is not None:
                self._unlocked(done.message, pending)

        dialog = SupervisorDialog(
            "Kiosk: supervisor badge",
            f"To {what}, a supervisor scans or types their badge.",
            db_path=self.db_path,
            act=act,
            reason="none",
        )
        self.push_screen(dialog, answered)

    def _unlocked(self, name: str, pending: Pending) -> None:
        self.kiosk_unlocked = True
        if pending.action == "quit":
            self.exit()
            return
        self.notify(f"kiosk unlocked by {name}; F2 locks it again")
        self.run_worker(self._show_list(pending.action), exclusive=True, group="go")


def create_app(
    db_path: str | Path,
    *,
    station: str | None = None,
    kiosk: bool = False,
    scanner_url: str | None = None,
    now_ms: Callable[[], int] | None = None,
    today: date | None = None,
    live: bool = True,
) -> ShopfloorApp:
    """The app for one database file; `now_ms`/`today` fix the clock (tests, snapshots)."""
    clock = FloorClock(fixed_today=today) if now_ms is None else FloorClock(now_ms, today)
    return ShopfloorApp(
        db_path, station=station, kiosk=kiosk, scanner_url=scanner_url, clock=clock, live=live
    )


# ---------------------------------------------------------------- kiosk restarts

EXIT_KIOSK_GAVE_UP = 9
KIOSK_ATTEMPTS = 5  # failures within KIOSK_WINDOW_S before a kiosk gives up
KIOSK_WINDOW_S = 60.0
KIOSK_PAUSE_S = 0.5  # between a failure and the restart, so a loop cannot spin


def crash_log_path(db_path: str | Path) -> Path:
    """Where the app writes what stopped it: beside the database, `<db>.crash.log`."""
    return Path(f"{db_path}.crash.log")


def log_crash(log_path: Path, error: BaseException, outcome: str) -> bool:
    """Append the error's traceback and what happened next; False if the log cannot be written.

    Owner-only, like the database: a traceback can quote a scanned badge.
    """
    stamp = datetime.now().astimezone().isoformat(timespec="seconds")
    text = "".join(traceback.format_exception(error))
    try:
        fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as log:
            log.write(f"--- {stamp} pid {os.getpid()}: {outcome}\n{text}\n")
    except OSError:
        return False  # a full or read-only disk must not stop the restart
    return True


def _run_in_terminal(app: ShopfloorApp) -> None:
    app.run()


def run_kiosk(
    make_app: Callable[[], ShopfloorApp],
    *,
    log_path: Path,
    run: Callable[[ShopfloorApp], object] = _run_in_terminal,
    attempts: int = KIOSK_ATTEMPTS,
    within_s: float = KIOSK_WINDOW_S,
    pause_s: float = KIOSK_PAUSE_S,
) -> int:
    """Run kiosk apps from `make_app` until one ends normally (a supervisor closed it).

    After an unexpected error the error is logged and a new app starts, at the station
    screen and locked, in the same process and terminal: the terminal never reaches a
    shell, and the next badge scanned goes to the app. Returns the exit status:
    EXIT_KIOSK_GAVE_UP after `attempts` failures within `within_s` seconds.
    """
    failures: deque[float] = deque()
    while True:
        crash: BaseException | None
        try:
            app = make_app()
            run(app)
            crash = app.crash
        except Exception as exc:  # whatever stopped it, the kiosk starts again
            crash = exc
        if crash is None:
            return app.return_code or 0
        moment = time.monotonic()
        failures.append(moment)
        while moment - failures[0] > within_s:
            failures.popleft()
        if len(failures) >= attempts:
            log_crash(log_path, crash, f"giving up: {len(failures)} failures within {within_s:g} s")
            print(
                f"shopfloor: the kiosk failed {len(failures)} times within {within_s:g} s; "
                f"stopped (details in {log_path})",
                file=sys.stderr,
            )
            return EXIT_KIOSK_GAVE_UP
        log_crash(log_path, crash, "restarted at the station screen, locked")
        print(
            f"shopfloor: restarting the kiosk after an unexpected error (details in {log_path})",
            file=sys.stderr,
        )
        time.sleep(pause_s)
