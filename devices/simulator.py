"""Simulated barcode scanners for the demo: a real pseudo-terminal per scanner.

The demo must exercise the same path as a plant, so a simulated scanner is not a
function call into the pipeline: it is a pty whose far end is opened by the normal
`ScannerReader`, and it types barcode lines into it with a CR, as a USB-serial
scanner in its factory setting does.
"""

from __future__ import annotations

import os
import threading
import tty


class PtyScanner:
    """One pty pair: the reader opens `device_path`; `send` writes a scanned line."""

    def __init__(self, terminator: bytes = b"\r") -> None:
        self._controller, self._device = os.openpty()
        # Raw mode: no echo, no line editing; the bytes arrive as the scanner sent them.
        tty.setraw(self._device)
        self.device_path = os.ttyname(self._device)
        self._terminator = terminator
        self._lock = threading.Lock()

    def send(self, line: str | bytes) -> None:
        payload = line.encode("utf-8") if isinstance(line, str) else line
        with self._lock:
            os.write(self._controller, payload + self._terminator)

    def close(self) -> None:
        for fd in (self._controller, self._device):
            try:
                os.close(fd)
            except OSError:
                pass
