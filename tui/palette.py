"""The command palette's floor commands: type a code, go to it.

A work-order number opens the order; an item's sku or a location's code opens it on
the stock screen; a stage's code opens the stages screen. The codes are read once
per palette opening, in a thread worker, so the palette never waits on SQLite.
"""

from __future__ import annotations

import sqlite3
from functools import partial
from typing import Protocol, runtime_checkable

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.fuzzy import Matcher

from db.connection import connect
from db.stations import Code, codes
from tui.plain import visible
from tui.screens.catalog import SCREENS


@runtime_checkable
class FloorNavigation(Protocol):
    """What the palette asks of the app: its database, and going to a screen or a code.

    A protocol, not the app's class: the app imports the palette, never the other way.
    """

    db_path: str

    def action_go(self, mode: str) -> None: ...

    async def jump(self, code: Code) -> None: ...


KIND_WORDS = {
    "work_order": "work order",
    "item": "item: stock",
    "location": "location: stock",
    "stage": "stage",
}


def _highlight(matcher: Matcher, text: str) -> Content:
    """`text` with the typed letters marked, as text: Matcher.highlight parses markup."""
    content = Content(text)
    _, offsets = matcher.fuzzy_search.match(matcher.query, text)
    for offset in offsets:
        if not text[offset].isspace():
            content = content.stylize(matcher.match_style, offset, offset + 1)
    return content


def read_codes(db_path: str) -> list[Code]:
    conn: sqlite3.Connection = connect(db_path)
    try:
        return codes(conn)
    finally:
        conn.close()


class FloorCommands(Provider):
    """Work orders, items, locations and stages by code, and the screens by name."""

    _codes: list[Code]

    @property
    def floor_app(self) -> FloorNavigation:
        app = self.app
        assert isinstance(app, FloorNavigation)
        return app

    async def startup(self) -> None:
        worker = self.app.run_worker(
            partial(read_codes, self.floor_app.db_path),
            thread=True,
            group="palette",
            exit_on_error=False,
        )
        try:
            self._codes = await worker.wait()
        except Exception:  # noqa: BLE001 - the screens still work without the codes
            self._codes = []

    async def discover(self) -> Hits:
        app = self.floor_app
        for entry in SCREENS:
            yield DiscoveryHit(entry.title, partial(app.action_go, entry.mode), help=entry.help)

    async def search(self, query: str) -> Hits:
        app = self.floor_app
        matcher = self.matcher(query)
        wanted = query.strip().lower()
        for entry in SCREENS:
            score = matcher.match(entry.title)
            if score > 0:
                yield Hit(score, matcher.highlight(entry.title),
                          partial(app.action_go, entry.mode), help=entry.help)  # fmt: skip
        for code in getattr(self, "_codes", []):
            text = visible(f"{code.code}  {code.label}")
            score = matcher.match(code.code)
            if code.code.lower() == wanted:
                score = 1.0  # an exact code (a scanned barcode) goes first
            if score <= 0:
                continue
            yield Hit(
                score,
                _highlight(matcher, text),
                partial(app.jump, code),
                text=text,
                help=KIND_WORDS[code.kind],
            )
