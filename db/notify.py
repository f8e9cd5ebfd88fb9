"""Telling systemd how a service is: the sd_notify protocol, in a few lines.

A unit of `Type=notify` hands the service a datagram socket in `$NOTIFY_SOCKET` (a
path, or `@name` for the abstract namespace); the service sends `READY=1` once it does
its job, `WATCHDOG=1` at least every `$WATCHDOG_USEC` while it still does it, and
`STATUS=...` for `systemctl status`. Without the variable (started by hand) every call
does nothing. A send never raises: telling the service manager must not stop a reader.
"""

from __future__ import annotations

import os
import socket


class ServiceNotifier:
    """The service manager's socket, if one was given."""

    def __init__(self, environ: dict[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        where = env.get("NOTIFY_SOCKET", "")
        # '@name' is Linux's abstract namespace: the address starts with a NUL byte.
        self.address = "\0" + where[1:] if where.startswith("@") else where
        watchdog_pid = env.get("WATCHDOG_PID")
        usec = env.get("WATCHDOG_USEC", "")
        ours = watchdog_pid is None or watchdog_pid == str(os.getpid())
        self.watchdog_s = int(usec) / 1_000_000 if usec.isdigit() and ours else None

    @property
    def active(self) -> bool:
        return bool(self.address)

    @property
    def ping_every_s(self) -> float | None:
        """Half the watchdog's interval, as systemd advises (one late ping is not a kill);
        None without a watchdog."""
        return self.watchdog_s / 2 if self.watchdog_s else None

    def send(self, *assignments: str) -> bool:
        """Send `KEY=value` lines; False if there is no socket or it refused."""
        if not self.address:
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.sendto("\n".join(assignments).encode("utf-8"), self.address)
        except OSError:
            return False
        return True

    def ready(self, status: str) -> bool:
        return self.send("READY=1", f"STATUS={status}")

    def alive(self) -> bool:
        return self.send("WATCHDOG=1")

    def status(self, status: str) -> bool:
        return self.send(f"STATUS={status}")

    def stopping(self) -> bool:
        return self.send("STOPPING=1")
