"""What a station refuses (`Rejected`): a scan that cannot act, raised by the scan grammar
(db.grammar) and the labels it hands on (db.context_labels, db.reason_codes); the
pipeline records it as the scan's outcome. Apart from db.refusals (what the record
refuses) because a rejection may change the station's session, which the record's
modules never see.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from db.sessions import Session


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
