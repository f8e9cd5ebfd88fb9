"""Messages the app passes around: small, past-tense, and cheap to coalesce under a burst."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


@dataclass
class FloorChanged(Message):
    """Some process committed to the floor's database (its `PRAGMA data_version` moved)."""

    data_version: int

    def can_replace(self, message: Message) -> bool:
        # A burst of commits needs one re-read, not one per commit.
        return isinstance(message, FloorChanged)


@dataclass
class ScanRecorded(Message):
    """A scan went through the pipeline (from the wedge input or a local serial scanner)."""

    scan_id: int
    station: str
    status: str
    message: str


@dataclass
class ScannerStateChanged(Message):
    """A local serial scanner connected or was lost."""

    scanner: str
    connected: bool
    error: str | None


@dataclass
class ScansHeld(Message):
    """Scans are waiting for the database (a lock, a full disk): how many, and why.

    `count` 0 says they were all posted."""

    feed: str
    station: str
    count: int
    reason: str | None

    def can_replace(self, message: Message) -> bool:
        # Only the latest count of a feed matters.
        return isinstance(message, ScansHeld) and message.feed == self.feed
