"""The app in a browser: `shopfloor serve` (textual-serve) on 127.0.0.1 behind the
office's password file, driven by Debian's chromium through Playwright, headless.

The browser's terminal draws on a canvas, so what it shows is read where it arrives:
the terminal output the page receives on its websocket (the bytes xterm.js paints),
with a screenshot kept beside the test's files for a person to look at.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from db.connection import connect
from tests.conftest import wait_for
from tests.e2e.conftest import SHOPFLOOR
from tests.serial_devices import is_listening

pytestmark = pytest.mark.timeout(120)

CHROMIUM = "/usr/bin/chromium"
NAME, PASSWORD = "office", "sheet-metal-42"
ANSI = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>78]")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Screen:
    """What the page's terminal was sent, as text, with when each piece came."""

    def __init__(self) -> None:
        self.pieces: list[tuple[float, str]] = []
        self._lock = threading.Lock()

    def take(self, payload: bytes | str) -> None:
        data = payload.encode() if isinstance(payload, str) else payload
        text = ANSI.sub(b"", data).decode("utf-8", errors="replace")
        with self._lock:
            self.pieces.append((time.monotonic(), text))

    def since(self, moment: float) -> str:
        with self._lock:
            return "".join(text for at, text in self.pieces if at >= moment)


@pytest.fixture
def password_file(tmp_path: Path) -> Path:
    path = tmp_path / "office.passwords"
    added = subprocess.run(
        [*SHOPFLOOR, "passwd", "--file", str(path), "--password-stdin", NAME],
        input=PASSWORD + "\n", capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert path.stat().st_mode & 0o777 == 0o600
    assert PASSWORD not in path.read_text()
    return path


@pytest.fixture
def served(db_path: Path, password_file: Path, tmp_path: Path) -> Iterator[str]:
    """`shopfloor serve` on a port the test chose; it and every app it started are
    stopped at teardown (their own process group)."""
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(
        [*SHOPFLOOR, "serve", "--db", str(db_path), "--port", str(port),
         "--passwords", str(password_file)],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip

    def listening() -> bool:
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", port)) == 0

    try:
        assert wait_for(listening, 20, 0.1), (tmp_path / "serve.log").read_text()
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(10)
        log.close()


@pytest.fixture
def chromium() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed; .ci/run installs it (apt)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        try:
            yield browser
        finally:
            browser.close()


def pump_until(page: Any, condition: Callable[[], bool], timeout: float) -> bool:
    """Wait while the page runs: the sync API hands over websocket frames only inside
    its own calls, so the wait is the page's, in short steps, bounded."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        page.wait_for_timeout(50)
    return condition()


def local_only(context: Any) -> None:
    """The page asks for a web font elsewhere: nothing leaves 127.0.0.1."""
    context.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), lambda route: route.abort())


def status_of(url: str, auth: tuple[str, str] | None, path: str = "/") -> int:
    request = urllib.request.Request(url + path)
    if auth is not None:
        import base64

        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as refused:
        return refused.code


def test_the_board_in_a_browser_shows_scans_from_another_process(
    served: str, chromium: Any, db_path: Path, tmp_path: Path
) -> None:
    screen = Screen()
    context = chromium.new_context(
        http_credentials={"username": NAME, "password": PASSWORD},
        viewport={"width": 1280, "height": 800},
    )
    local_only(context)
    page = context.new_page()
    page.on("websocket", lambda ws: ws.on("framereceived", screen.take))
    assert page.goto(served).status == 200
    assert pump_until(page, lambda: "WO-24003" in screen.since(0), 45), screen.since(0)[-2000:]
    assert "BOARD" in screen.since(0) and "released" in screen.since(0)
    page.screenshot(path=str(tmp_path / "board.png"))

    # Only the order the scans will touch: its row is what changes on screen. A click
    # on the filter gives the terminal the keyboard.
    page.mouse.click(300, 44)
    page.keyboard.type("WO-24003")
    page.wait_for_timeout(1000)
    posted = time.monotonic()
    scanned = subprocess.run(
        [*SHOPFLOOR, "scan", "--db", str(db_path), "--station", "STORES",
         "B1001", "WO-24003", "A-04", "QTY:3", "FAN-120"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert scanned.returncode == 0, scanned.stdout + scanned.stderr
    assert pump_until(page, lambda: "in progress" in screen.since(posted), 10), screen.since(posted)
    page.screenshot(path=str(tmp_path / "board-after-scan.png"))

    # The office looks; changing the record still needs a supervisor's badge.
    page.keyboard.press("Enter")
    assert pump_until(page, lambda: "Hold" in screen.since(posted), 10)
    asked = time.monotonic()
    page.keyboard.press("h")
    assert pump_until(page, lambda: "badge" in screen.since(asked).lower(), 10), screen.since(asked)
    conn = connect(db_path)
    status = conn.execute("SELECT status FROM work_orders WHERE number = 'WO-24003'").fetchone()
    conn.close()
    assert status[0] == "in_progress"
    context.close()


def test_a_wrong_password_is_refused(served: str, chromium: Any) -> None:
    # Served on the loopback only, by default: no socket on every address.
    port = int(served.rsplit(":", 1)[1])
    assert is_listening(port)
    with open("/proc/net/tcp") as table:
        assert f"00000000:{port:04X}" not in table.read()
    context = chromium.new_context(http_credentials={"username": NAME, "password": "guess"})
    local_only(context)
    page = context.new_page()
    assert page.goto(served).status == 401
    assert "password" in page.content()
    context.close()
    # Every route, the app's websocket and its files too, without the password.
    for path in ("/", "/ws", "/static/js/textual.js"):
        assert status_of(served, None, path) == 401
        assert status_of(served, (NAME, "guess"), path) == 401
        assert status_of(served, ("nobody", PASSWORD), path) == 401
    assert status_of(served, (NAME, PASSWORD), "/static/js/textual.js") == 200


def test_serving_off_the_loopback_needs_a_password_file(db_path: Path) -> None:
    refused = subprocess.run(
        [*SHOPFLOOR, "serve", "--db", str(db_path), "--host", "0.0.0.0", "--port", "1"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert refused.returncode == 1
    assert "refusing to serve on 0.0.0.0 without a password file" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_a_password_file_a_person_must_fix_is_named_with_its_line(
    db_path: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "office.passwords"
    broken.write_text("# the office\nmaria:plain:secret\n")
    refused = subprocess.run(
        [*SHOPFLOOR, "serve", "--db", str(db_path), "--passwords", str(broken), "--port", "1"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert refused.returncode == 1
    assert f"{broken}:2: not a password entry" in refused.stderr, refused.stderr
    short = subprocess.run(
        [*SHOPFLOOR, "passwd", "--file", str(tmp_path / "new.passwords"), "--password-stdin",
         "maria"],
        input="short\n", capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert short.returncode == 1 and "at least 8 characters" in short.stderr
    assert not (tmp_path / "new.passwords").exists()
