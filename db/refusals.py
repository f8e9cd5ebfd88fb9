"""What the record refuses: the one exception a person reads when a change is not
allowed (`LedgerError`), its message saying what to do instead. Every module that
changes the record raises it, so every caller catches one thing. And what a station
refuses (`Rejected`): a scan that cannot act, for the scan grammar (db.grammar) and
the labels it hands on (db.context_labels).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from db.sessions import Session


class LedgerError(Exception):
    """A posting the record refuses; the message tells a person what to do instead."""


class Rejected(Exception):
    """A scan that cannot act; the message says what to scan instead.

    `then` changes the session although the scan was refused (the pipeline otherwise
    puts the session back as it was): a refused traveler must not leave the previous
    order in place for the next CMD:DONE to post to."""

    def __init__(self, message: str, *, then: Callable[[Session], None] | None = None) -> None:
        super().__init__(message)
        self.then = then
