"""What the record refuses: the one exception a person reads when a change is not
allowed (`LedgerError`), its message saying what to do instead. Every module that
changes the record raises it, so every caller catches one thing. And what a station
refuses (`Rejected`): a scan that cannot act, for the scan grammar (db.grammar) and
the labels it hands on (db.context_labels). Whether a scan either refused waits in the
supervisors' inbox is said where it is raised (`fixable`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from db.sessions import Session


class LedgerError(Exception):
    """A posting the record refuses; the message tells a person what to do instead.

    `fixable`: a supervisor can fix what stopped it by changing master data or an order
    (an item not in the item list, an order on hold, too little on record), so a scan
    refused for it waits in the inbox; a slip of the person scanning (a lot label not
    scanned, more returned than the order holds) is theirs to scan again, and does not.
    """

    def __init__(self, message: str, *, fixable: bool = True) -> None:
        super().__init__(message)
        self.fixable = fixable


class Rejected(Exception):
    """A scan that cannot act; the message says what to scan instead.

    `then` changes the session although the scan was refused (the pipeline otherwise
    puts the session back as it was): a refused traveler must not leave the previous
    order in place for the next CMD:DONE to post to.

    `fixable`: a supervisor can fix it in the master data or an order (an unknown
    barcode, an order on hold), so it waits in the inbox; by default a rejection is the
    scanning person's slip (a bad QTY:, a command in the wrong mode, nobody signed in),
    shown at the station and journaled, but not queued for a supervisor."""

    def __init__(
        self,
        message: str,
        *,
        then: Callable[[Session], None] | None = None,
        fixable: bool = False,
    ) -> None:
        super().__init__(message)
        self.then = then
        self.fixable = fixable
