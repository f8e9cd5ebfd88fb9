"""What the record refuses: the one exception a person reads when a change is not
allowed (`LedgerError`), its message saying what to do instead. Every module that
changes the record raises it, so every caller catches one thing.
"""

from __future__ import annotations


class LedgerError(Exception):
    """A posting the record refuses; the message tells a person what to do instead."""
