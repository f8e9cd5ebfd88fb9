"""What the record refuses: the one exception a person reads when a change is not
allowed (`LedgerError`), its message saying what to do instead. Every module that
changes the record raises it, so every caller catches one thing. Whether a scan it
refused waits in the supervisors' inbox is said where it is raised (`fixable`); what a
station refuses before anything is posted is db.rejections'.
"""

from __future__ import annotations


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
