"""Kiosks over SSH: a real `sshd` (Debian's openssh-server) on 127.0.0.1, on a port the
test chose, with a throwaway host key and a throwaway user, configured with the
`Match User` block of docs/ssh-kiosk.md itself; `ssh -tt` runs inside tmux as a floor
terminal would. The station screen comes up, and no key, signal or trick reaches a
shell: kiosk keys, Ctrl+C, Ctrl+Z, Ctrl+\\, a command of the client's choice, a
forwarding, a dropped connection. The user and every process of it go at teardown.
"""

from __future__ import annotations

import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import wait_for
from tests.e2e.terminal import Terminal
from tests.serial_devices import require_tool

pytestmark = pytest.mark.timeout(120)

DOC = Path(__file__).parents[2] / "docs" / "ssh-kiosk.md"
SHOPFLOOR = str(Path(sys.executable).parent / "shopfloor")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def documented_match_block(user: str, command: str) -> str:
    """The docs' `Match User` block, for this test's user and command."""
    text = DOC.read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```\w*\n(.*?)```", text, re.S) if "Match User" in b)
    block = re.sub(r"^Match User \S+", f"Match User {user}", block, flags=re.M)
    return re.sub(r"^(\s+ForceCommand) .*$", rf"\1 {command}", block, flags=re.M)


def processes_of(user: str) -> list[int]:
    uid = pwd.getpwnam(user).pw_uid
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    found.append(int(entry.name))
            except FileNotFoundError:
                continue
    return found


def app_for(user: str) -> list[str]:
    """The installed `shopfloor` as `user` can run it. A plant installs it under /opt;
    a developer's venv may point at an interpreter in root's home, which the kiosk user
    cannot enter: then the system's Python of the same version runs the same packages."""
    runs = subprocess.run(["su", "-s", "/bin/sh", user, "-c", f"{SHOPFLOOR} --help"],
                          capture_output=True, timeout=30)  # fmt: skip
    if runs.returncode == 0:
        return [SHOPFLOOR]
    system = f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}"
    if not Path(system).exists():
        pytest.fail(f"{SHOPFLOOR} cannot be run by another user, and there is no {system}")
    packages = next(p for p in sys.path if p.endswith("site-packages"))
    start = f"import site; site.addsitedir({packages!r}); from tui.cli import main; main()"
    return [system, "-c", start]


@dataclass
class Kiosk:
    user: str
    port: int
    key: Path
    db: Path

    def ssh(self, *extra: str) -> list[str]:
        return [
            "ssh", "-i", str(self.key), "-p", str(self.port),
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "BatchMode=yes", "-o", "LogLevel=ERROR", *extra, f"{self.user}@127.0.0.1",
        ]  # fmt: skip


@pytest.fixture
def kiosk(tmp_path: Path, demo_template: Path) -> Iterator[Kiosk]:
    for tool in ("sshd", "ssh", "ssh-keygen", "tmux"):
        require_tool(tool)
    user = f"sfkiosk{os.getpid() % 100000}"
    # The user's own folder, outside pytest's root-only one: home, database, its -wal.
    home = Path(tempfile.mkdtemp(prefix="sf-ssh-"))
    home.chmod(0o755)
    subprocess.run(["useradd", "-M", "-d", str(home), "-s", "/bin/sh", user], check=True)
    sshd: subprocess.Popen[bytes] | None = None
    try:
        # '*': no password, yet not a locked account (sshd refuses those, even by key).
        subprocess.run(["usermod", "-p", "*", user], check=True)
        db = home / "plant.db"
        shutil.copy(demo_template, db)
        db.chmod(0o600)
        shutil.chown(db, user)
        shutil.chown(home, user)
        host_key, client_key = tmp_path / "host_ed25519", tmp_path / "client_ed25519"
        for key in (host_key, client_key):
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True
            )
        authorized = home / "authorized_keys"
        authorized.write_text(Path(f"{client_key}.pub").read_text())
        port = free_port()
        command = shlex.join([*app_for(user), "--db", str(db), "--kiosk", "--station", "CUT-1"])
        config = tmp_path / "sshd_config"
        config.write_text(
            f"Port {port}\nListenAddress 127.0.0.1\nHostKey {host_key}\n"
            f"PidFile {tmp_path / 'sshd.pid'}\nAuthorizedKeysFile {authorized}\n"
            "StrictModes no\nUsePAM no\nPasswordAuthentication no\n"
            f"AllowUsers {user}\nAcceptEnv LANG LC_*\n\n" + documented_match_block(user, command)
        )
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation
        tested = subprocess.run(
            ["/usr/sbin/sshd", "-t", "-f", str(config)], capture_output=True, text=True
        )
        assert tested.returncode == 0, tested.stderr
        log = (tmp_path / "sshd.log").open("wb")
        sshd = subprocess.Popen(
            ["/usr/sbin/sshd", "-D", "-e", "-f", str(config)], stdout=log, stderr=log
        )

        def listening() -> bool:
            with socket.socket() as probe:
                return probe.connect_ex(("127.0.0.1", port)) == 0

        assert wait_for(listening, 10, 0.05), (tmp_path / "sshd.log").read_text()
        yield Kiosk(user=user, port=port, key=client_key, db=db)
    finally:
        if sshd is not None:
            sshd.terminate()
            sshd.wait(10)
        for pid in processes_of(user):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        wait_for(lambda: not processes_of(user), 10, 0.05)
        subprocess.run(["userdel", user], check=False)
        shutil.rmtree(home, ignore_errors=True)


class SshTerminal(Terminal):
    """A floor terminal: `ssh -tt` to the kiosk account, in tmux."""

    def start_ssh(self, argv: list[str]) -> None:
        status = shlex.quote(str(self.status_file))
        self.status_file.unlink(missing_ok=True)
        self.tmux(
            "new-session", "-d", "-s", self.session, "-x", "120", "-y", "40",
            f"{shlex.join(argv)}; echo $? > {status}",
            ";", "set-option", "-t", self.session, "remain-on-exit", "on",
        )  # fmt: skip

    def client_pid(self) -> int:
        """The ssh process: the child of the pane's shell."""
        pane = int(self.tmux("display-message", "-p", "-t", self.session, "#{pane_pid}"))
        children = Path(f"/proc/{pane}/task/{pane}/children").read_text().split()
        return int(children[0])


@pytest.fixture
def floor_terminal(tmp_path: Path) -> Iterator[SshTerminal]:
    term = SshTerminal(tmp_path)
    yield term
    term.stop()


STATION = ("SCAN · CUT-1", "Scan your badge to sign in")


def test_an_ssh_kiosk_shows_the_station_and_never_a_shell(
    kiosk: Kiosk, floor_terminal: SshTerminal
) -> None:
    floor_terminal.start_ssh(kiosk.ssh("-tt"))
    floor_terminal.wait_text(*STATION, seconds=30)
    # Keys that would stop or suspend a program on a terminal, and the kiosk's own keys:
    # the station screen stays, the connection stays.
    for keys in (["C-c"], ["C-z"], ["C-\\"], ["F1"], ["F3"], ["C-p"], ["C-d"]):
        floor_terminal.keys(*keys)
        time.sleep(0.4)
        screen = floor_terminal.wait_text("SCAN · CUT-1")
        assert floor_terminal.exit_status() is None, (keys, screen)
        assert "$ " not in screen.splitlines()[-1], (keys, screen)
    floor_terminal.keys("C-q")
    floor_terminal.wait_text("Kiosk: supervisor badge")
    floor_terminal.keys("Escape")
    floor_terminal.wait_for(lambda s: "Kiosk: supervisor badge" not in s, "the dialog closed")

    # A dropped connection: the client dies; the kiosk on the server goes with it.
    assert processes_of(kiosk.user)
    os.kill(floor_terminal.client_pid(), signal.SIGKILL)
    assert wait_for(lambda: not processes_of(kiosk.user), 15, 0.1), processes_of(kiosk.user)
    floor_terminal.stop()

    # The terminal connects again: the station screen, not a prompt. A supervisor's badge
    # ends the app and the connection with it.
    again = SshTerminal(floor_terminal.status_file.parent)
    try:
        again.start_ssh(kiosk.ssh("-tt"))
        again.wait_text(*STATION, seconds=30)
        again.keys("C-q")
        again.wait_text("Kiosk: supervisor badge")
        again.scan("B3001")
        assert again.wait_exit(30) == 0
        assert wait_for(lambda: not processes_of(kiosk.user), 15, 0.1)
    finally:
        again.stop()


def test_the_kiosk_account_runs_no_command_of_the_clients_choice(kiosk: Kiosk) -> None:
    # A command asked for: the forced command, the station screen, runs instead; the
    # command never does. The client is ended after a few seconds.
    asked = subprocess.Popen(
        [*kiosk.ssh("-tt"), "echo SHELL-REACHED; id"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        output, _ = asked.communicate(timeout=8)
    except subprocess.TimeoutExpired:
        asked.kill()
        output, _ = asked.communicate(timeout=10)
    assert b"SHELL-REACHED" not in output and b"uid=" not in output
    assert b"CUT-1" in output, output[-500:]
    # A tunnel through the kiosk account is refused by the server.
    tunnel = subprocess.run(
        [*kiosk.ssh("-N", "-o", "ExitOnForwardFailure=yes", "-R", "0:127.0.0.1:9")],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert tunnel.returncode == 255 and "forwarding failed" in tunnel.stderr, tunnel.stderr
