"""One `shopfloor` process in a real terminal: a detached tmux session on a private tmux
server (a socket in a private temporary folder, started with no config file, killed and
its socket removed afterwards, so a user's tmux is never touched), typed into with
`send-keys` as a keyboard-wedge scanner types, read back with `capture-pane`. Every
wait is bounded; a failure shows the last screen captured."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

SHOPFLOOR = str(Path(sys.executable).parent / "shopfloor")
TMUX = shutil.which("tmux") or "tmux"
WAIT_SECONDS = 15.0


class Terminal:
    """One `shopfloor` process in a detached tmux session on a private tmux server."""

    def __init__(self, folder: Path) -> None:
        # A short path of its own: a unix socket's path is limited to ~100 bytes.
        self.socket_dir = Path(tempfile.mkdtemp(prefix="sf-tmux-"))
        self.socket = str(self.socket_dir / "tmux")
        self.session = "floor"
        self.status_file = folder / "exit-status"
        self.env = {**os.environ, "TERM": "xterm-256color"}
        self.env.pop("TMUX", None)  # inside a user's tmux: still start our own server
        self.last_screen = ""

    def tmux(self, *args: str, check: bool = True) -> str:
        done = subprocess.run(
            [TMUX, "-S", self.socket, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=10,
            check=False,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def start(self, options: list[str], *, width: int = 120, height: int = 40) -> None:
        """Run `shopfloor OPTIONS`; its exit status lands in `status_file` when it ends."""
        command = shlex.join(["env", "TERM=xterm-256color", SHOPFLOOR, *options])
        status = shlex.quote(str(self.status_file))
        self.tmux(
            "new-session", "-d", "-s", self.session, "-x", str(width), "-y", str(height),
            f"{command}; echo $? > {status}",
            # The pane stays after the process ends, so its last words can be read.
            ";", "set-option", "-t", self.session, "remain-on-exit", "on",
        )  # fmt: skip

    def stop(self) -> None:
        self.tmux("kill-server", check=False)
        shutil.rmtree(self.socket_dir, ignore_errors=True)

    def screen(self) -> str:
        self.last_screen = self.tmux("capture-pane", "-p", "-t", self.session)
        return self.last_screen

    def keys(self, *keys: str) -> None:
        """Keys by tmux name (Enter, Escape, C-q)."""
        self.tmux("send-keys", "-t", self.session, *keys)

    def scan(self, *codes: str) -> None:
        """Each code typed and ended with Enter, all in one burst, as a wedge scanner does."""
        args: list[str] = []
        for code in codes:
            args += ["send-keys", "-t", self.session, "-l", code, ";"]
            args += ["send-keys", "-t", self.session, "Enter", ";"]
        self.tmux(*args[:-1])

    def wait_for(
        self, check: Callable[[str], bool], what: str, seconds: float = WAIT_SECONDS
    ) -> str:
        """The screen once `check(screen)` holds; fails after `seconds` showing the screen."""
        deadline = time.monotonic() + seconds
        while True:
            screen = self.screen()
            if check(screen):
                return screen
            if self.exit_status() is not None:
                self.fail(f"shopfloor exited ({self.exit_status()}) while waiting for {what}")
            if time.monotonic() > deadline:
                self.fail(f"not on screen within {seconds:.0f} s: {what}")
            time.sleep(0.05)

    def wait_text(self, *texts: str, seconds: float = WAIT_SECONDS) -> str:
        return self.wait_for(
            lambda screen: all(t in screen for t in texts), " and ".join(map(repr, texts)), seconds
        )

    def exit_status(self) -> int | None:
        try:
            text = self.status_file.read_text().strip()
        except FileNotFoundError:
            return None
        return int(text) if text else None

    def wait_exit(self, seconds: float = WAIT_SECONDS) -> int:
        deadline = time.monotonic() + seconds
        while (status := self.exit_status()) is None:
            if time.monotonic() > deadline:
                self.screen()
                self.fail(f"shopfloor still running after {seconds:.0f} s")
            time.sleep(0.05)
        return status

    def fail(self, message: str) -> None:
        raise AssertionError(f"{message}\n--- last screen ---\n{self.last_screen}")
