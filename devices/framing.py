"""Cutting a scanner's byte stream into lines: the terminators a scanner may end its
lines with, and `LineFramer`, which keeps at most `max_line` bytes of an unfinished
line however long it runs."""

from __future__ import annotations

from typing import Literal, get_args

Terminator = Literal["auto", "CR", "LF", "CRLF"]


class LineFramer:
    """Cuts a byte stream into lines, holding at most `max_line` bytes of an unfinished one.

    `feed` returns (head, full length) for each line completed by the chunk. Empty
    lines are dropped, which is also why "auto" can treat CR and LF each as an end of
    line: the empty line between the CR and LF of a CRLF disappears.
    """

    def __init__(self, terminator: Terminator = "auto", max_line: int = 4096) -> None:
        if terminator not in get_args(Terminator):
            raise ValueError(f"unknown terminator {terminator!r}")
        self._terminator = terminator
        self._max_line = max_line
        self._head = bytearray()
        self._length = 0  # of the unfinished line, counting bytes not kept in _head
        self._held_cr = False  # CRLF mode: a chunk ended between CR and LF

    @property
    def buffered(self) -> int:
        """Bytes of the unfinished line held in memory."""
        return len(self._head) + self._held_cr

    def feed(self, chunk: bytes) -> list[tuple[bytes, int]]:
        if self._held_cr:
            chunk = b"\r" + chunk
            self._held_cr = False
        if self._terminator == "CRLF" and chunk.endswith(b"\r"):
            chunk = chunk[:-1]
            self._held_cr = True

        *complete, rest = self._split(chunk)
        lines: list[tuple[bytes, int]] = []
        for piece in complete:
            if self._length:
                self._extend(piece)
                head, length = bytes(self._head), self._length
                self._head.clear()
                self._length = 0
            else:
                head, length = piece[: self._max_line], len(piece)
            if length:
                lines.append((head, length))
        if rest:
            self._extend(rest)
        return lines

    def drop_partial(self) -> None:
        self._head.clear()
        self._length = 0
        self._held_cr = False

    def take_partial(self) -> tuple[bytes, int] | None:
        """End the unfinished line where it is (after a silence): its head and length."""
        head, length = bytes(self._head), self._length
        self.drop_partial()
        return (head, length) if length else None

    def _split(self, chunk: bytes) -> list[bytes]:
        if self._terminator == "CR":
            return chunk.split(b"\r")
        if self._terminator == "LF":
            return chunk.split(b"\n")
        if self._terminator == "CRLF":
            return chunk.split(b"\r\n")
        if b"\r" in chunk:
            chunk = chunk.replace(b"\r", b"\n")
        return chunk.split(b"\n")

    def _extend(self, piece: bytes) -> None:
        room = self._max_line - len(self._head)
        if room > 0:
            self._head += piece[:room]
        self._length += len(piece)
