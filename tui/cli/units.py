"""The systemd units `shopfloor units` writes: the listener (Type=notify: ready once its
scanners are open, a watchdog fed while its commits succeed, restarted always), the
office's browser server, and a local kiosk terminal (getty autologin into a login shell
that is the station screen, never a prompt).
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from pathlib import Path

# The listener pings every half of this while its heartbeat commits (db.notify); three
# missed heartbeats in a row and systemd restarts it.
WATCHDOG_S = 30


@dataclass(frozen=True)
class UnitSettings:
    shopfloor: str  # the installed `shopfloor` executable
    db_path: str
    user: str
    config: str  # the scanners' TOML
    host: str
    port: int
    passwords: str | None  # serve's password file; None on the loopback
    station: str  # the local kiosk's


def _listen(s: UnitSettings) -> str:
    data = str(Path(s.db_path).parent)
    command = shlex.join([s.shopfloor, "listen", "--config", s.config, "--quiet"])
    return f"""\
# shopfloor: the scanners' reader. systemctl enable --now shopfloor-listen
[Unit]
Description=shopfloor scanner reader (listen)
Wants=network-online.target
After=network-online.target

[Service]
# READY=1 once every scanner was opened (or found missing: STATUS names it);
# WATCHDOG=1 after each heartbeat that committed: a reader whose writes fail is restarted.
Type=notify
NotifyAccess=main
WatchdogSec={WATCHDOG_S}
TimeoutStartSec=60
User={s.user}
SupplementaryGroups=dialout
Environment=SHOPFLOOR_DB={s.db_path}
ExecStart={command}
Restart=always
RestartSec=2
# SIGTERM: the hand-over being committed finishes; lines still held stay in the spool.
KillSignal=SIGTERM
TimeoutStopSec=20
NoNewPrivileges=yes
ProtectSystem=full
PrivateTmp=yes
ReadWritePaths={data}

[Install]
WantedBy=multi-user.target
"""


def _serve(s: UnitSettings) -> str:
    argv = [s.shopfloor, "serve", "--host", s.host, "--port", str(s.port)]
    if s.passwords is not None:
        argv += ["--passwords", s.passwords]
    data = str(Path(s.db_path).parent)
    return f"""\
# shopfloor: the app in the office's browsers. systemctl enable --now shopfloor-serve
[Unit]
Description=shopfloor in a browser (serve)
Wants=network-online.target
After=network-online.target shopfloor-listen.service

[Service]
Type=simple
User={s.user}
Environment=SHOPFLOOR_DB={s.db_path}
ExecStart={shlex.join(argv)}
Restart=always
RestartSec=2
NoNewPrivileges=yes
ProtectSystem=full
PrivateTmp=yes
ReadWritePaths={data}

[Install]
WantedBy=multi-user.target
"""


def _kiosk_getty() -> str:
    return """\
# shopfloor: a local kiosk terminal. The kiosk user logs in by itself on the console
# and its login shell is the station screen (shopfloor-kiosk-shell); when that ends,
# the getty starts it again. systemctl enable --now shopfloor-kiosk-getty@tty2
[Unit]
Description=shopfloor kiosk on %I (autologin)
After=systemd-user-sessions.service
Conflicts=getty@%i.service
Before=getty.target

[Service]
ExecStart=-/sbin/agetty --autologin {user} --noclear %I linux
Type=idle
Restart=always
RestartSec=0
UtmpIdentifier=%I
StandardInput=tty
StandardOutput=tty
TTYPath=/dev/%I
TTYReset=yes
TTYVHangup=yes
TTYVTDisallocate=yes
IgnoreSIGPIPE=no
SendSIGHUP=yes

[Install]
WantedBy=getty.target
"""


def _kiosk_shell(s: UnitSettings) -> str:
    return f"""\
#!/bin/sh
# The kiosk user's login shell (usermod -s THIS {s.user}): the station screen, locked;
# only a supervisor badge ends it, and the getty then logs in again. Never a prompt.
export SHOPFLOOR_DB={shlex.quote(s.db_path)}
exec {shlex.quote(s.shopfloor)} --kiosk --station {shlex.quote(s.station)}
"""


def write_units(out: Path, s: UnitSettings) -> list[Path]:
    """Write the units and the kiosk's login shell into `out`; the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "shopfloor-listen.service": _listen(s),
        "shopfloor-serve.service": _serve(s),
        "shopfloor-kiosk-getty@.service": _kiosk_getty().replace("{user}", s.user),
        "shopfloor-kiosk-shell": _kiosk_shell(s),
    }
    written = []
    for name, text in files.items():
        path = out / name
        path.write_text(text, encoding="utf-8")
        os.chmod(path, 0o755 if name == "shopfloor-kiosk-shell" else 0o644)
        written.append(path)
    return written
