"""The one list of the app's screens: the app's modes, their F-keys, the palette's
names for them, and which one a locked kiosk shows.

A screen's module is named here as text and imported when the screen is first shown,
not at start: the board's first paint waits for no other screen (nor the db/ and
textual modules only it needs).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from textual.screen import Screen

# What a screen takes from the app, beside the database: the app's clock, its `now_ms`
# alone, the terminal's station, whether it is a kiosk.
AppPart = Literal["clock", "now_ms", "station", "kiosk"]


@dataclass(frozen=True)
class FloorScreenEntry:
    mode: str  # the app's mode, and what `go` and the palette's screen hits name
    key: str  # the F-key that shows it
    label: str  # the key's word in the footer
    title: str  # its name in the command palette
    help: str  # the palette's line about it
    module: str
    class_name: str
    takes: tuple[AppPart, ...]
    kiosk: bool = False  # a locked kiosk shows it; every other screen needs a badge
    # Its key in the footer: F1-F6 fill an 80-column footer; later screens are reached
    # by their key and the palette without crowding it.
    footer: bool = True

    def screen_class(self) -> Callable[..., Screen[None]]:
        """The screen's class, its module imported now; the app passes it what it `takes`."""
        found = getattr(importlib.import_module(self.module), self.class_name)
        assert isinstance(found, type) and issubclass(found, Screen)
        return found


SCREENS: tuple[FloorScreenEntry, ...] = (
    FloorScreenEntry("board", "f1", "Board", "Board", "every open work order",
                     "tui.screens.board", "BoardScreen", ("clock",)),
    FloorScreenEntry("scan", "f2", "Scan", "Scan station", "scan at this terminal's station",
                     "tui.screens.scan", "ScanScreen", ("station", "clock", "kiosk"), kiosk=True),
    FloorScreenEntry("stock", "f3", "Stock", "Stock", "search items and locations",
                     "tui.screens.stock", "StockScreen", ("now_ms",)),
    FloorScreenEntry("stages", "f4", "Stages", "Stages", "work in progress per stage",
                     "tui.screens.stages", "StagesScreen", ("now_ms",)),
    FloorScreenEntry("inbox", "f5", "Inbox", "Inbox", "rejected scans",
                     "tui.screens.inbox", "InboxScreen", ("now_ms",)),
    FloorScreenEntry("devices", "f6", "Devices", "Devices", "scanners and their state",
                     "tui.screens.devices", "DevicesScreen", ("now_ms",)),
    FloorScreenEntry("shortages", "f12", "Short", "Shortages",
                     "short components, the orders they hold up, their supply",
                     "tui.screens.shortages", "ShortagesScreen", ("clock",), footer=False),
    FloorScreenEntry("schedule", "f11", "Schedule", "Schedule",
                     "projected finish of every order, each stage's load and throughput",
                     "tui.screens.schedule", "ScheduleScreen", ("clock",), footer=False),
)  # fmt: skip

BY_MODE = {entry.mode: entry for entry in SCREENS}
# Where a kiosk (or a terminal given --station) starts, and what locks it again.
KIOSK_MODE = next(entry.mode for entry in SCREENS if entry.kiosk)
