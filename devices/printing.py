"""Sending print jobs: raw to a printer's port 9100 (JetDirect), or through CUPS `lp`.

Failures become a PrinterError whose message says what to check at the printer,
because the person reading it is standing next to one.
"""

from __future__ import annotations

import shutil
import socket
import subprocess

RAW_PORT = 9100
LP_TIMEOUT_S = 30.0


class PrinterError(OSError):
    """A print job did not reach the printer; the message says what to check."""


class PrinterAddressError(ValueError):
    """A printer address that cannot be used; the message shows how to write one."""


def parse_printer(text: str) -> tuple[str, int]:
    """`HOST`, `HOST:PORT`, `[IPv6]:PORT` → (host, port); the port defaults to 9100."""
    value = text.strip()
    host, port = value, str(RAW_PORT)
    if value.startswith("["):
        inside, _, rest = value[1:].partition("]")
        host = inside
        if rest:
            if not rest.startswith(":"):
                raise PrinterAddressError(f"printer {text!r}: write HOST:PORT or [IPv6]:PORT")
            port = rest[1:]
    elif value.count(":") == 1:
        host, port = value.split(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise PrinterAddressError(f"printer {text!r}: write HOST:PORT, e.g. 10.0.4.50:9100")
    return host, int(port)


def _where(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def send_raw(host: str, port: int, payload: bytes, timeout: float = 5.0) -> None:
    """Send `payload` (ZPL, PCL, PDF for printers that take it) to host:port and close.

    `timeout` bounds the connect, then the whole send (Python's sendall semantics); a
    printer that stops taking data (paused, out of labels) ends in an error, not a hang.
    """
    where = _where(host, port)
    try:
        with socket.create_connection((host, port), timeout=timeout) as conn:
            conn.sendall(payload)
            # Half-close so the printer sees the end of the job, then close.
            conn.shutdown(socket.SHUT_WR)
    except ConnectionRefusedError as exc:
        raise PrinterError(
            f"printer {where} refused the connection: is it on and is the port right?"
        ) from exc
    except TimeoutError as exc:
        raise PrinterError(
            f"printer {where} did not answer or stopped taking data within {timeout:g} s: "
            "is it on this network, paused, or out of labels?"
        ) from exc
    except socket.gaierror as exc:
        raise PrinterError(f"printer host {host!r} is unknown: check the name ({exc})") from exc
    except OSError as exc:
        raise PrinterError(f"printer {where}: {exc.strerror or exc}") from exc


def send_lp(queue: str, payload: bytes, *, raw: bool = True) -> None:
    """Submit `payload` to the CUPS queue `queue` with `lp` (`-o raw` unless raw=False)."""
    if not queue or queue.startswith("-"):
        raise PrinterError(f"{queue!r} is not a printer queue name")
    lp = shutil.which("lp")
    if lp is None:
        raise PrinterError(
            "lp is not installed: install the CUPS client (apt-get install cups-client) "
            "or send straight to the printer's port 9100"
        )
    args = [lp, "-d", queue]
    if raw:
        args += ["-o", "raw"]
    try:
        result = subprocess.run(
            args, input=payload, capture_output=True, timeout=LP_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise PrinterError(f"lp -d {queue} did not finish within {LP_TIMEOUT_S:g} s") from exc
    if result.returncode != 0:
        detail = result.stderr.decode(errors="replace").strip() or f"exit {result.returncode}"
        raise PrinterError(f"lp -d {queue} failed: {detail}")
