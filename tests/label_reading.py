"""Reading printed labels back, for the label tests: zbar on images, and a printer's
raw port played by a TCP sink on 127.0.0.1 that the test owns."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest


def tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: apt-get install {package}", pytrace=False)
    return path


def zbar(path: Path) -> list[str]:
    """Every Code 128 symbol zbar reads in the image, in its output order."""
    zbarimg = tool("zbarimg", "zbar-tools")
    # Only Code 128 enabled: nothing else on a label may be read as a barcode.
    args = [zbarimg, "--nodbus", "--raw", "-q", "-Sdisable", "-Scode128.enable", str(path)]
    result = subprocess.run(args, capture_output=True, timeout=60, check=False)
    # zbarimg exits 4 when it finds no symbol; anything else non-zero is a failure.
    assert result.returncode in (0, 4), result.stderr.decode(errors="replace")
    return [line for line in result.stdout.decode().split("\n") if line]


@pytest.fixture
def listener() -> Iterator[tuple[int, list[bytes]]]:
    """A one-connection TCP sink on 127.0.0.1; yields its port and what it received."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(10)
    received: list[bytes] = []

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            conn.settimeout(10)
            chunks = []
            while chunk := conn.recv(65536):
                chunks.append(chunk)
            received.append(b"".join(chunks))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], received
    thread.join(timeout=10)
    server.close()
    assert not thread.is_alive()
