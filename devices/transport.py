"""A scanner's serial transport: finding its device by USB ids, opening it (exclusive,
input kept, TCP keepalive on network links), closing it, telling a dropped RFC 2217
link from a quiet one, and the words for why a port cannot be opened or was lost."""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

import serial
from serial import rfc2217

from devices.ports import matching_ports

log = logging.getLogger(__name__)

# Short, so stop() and a dropped link are noticed quickly; reads return as soon as
# bytes are there, so this costs no latency.
READ_TIMEOUT_S = 0.05
# A TCP link whose cable is pulled sends no FIN; without keepalive a reader would
# wait on it forever.
_KEEPALIVE = (("TCP_KEEPIDLE", 5), ("TCP_KEEPINTVL", 2), ("TCP_KEEPCNT", 3))


class Unavailable(Exception):
    """The scanner cannot be opened for a reason already in plain words."""


def device_by_usb_ids(vid: int | None, pid: int | None, serial_number: str | None) -> str:
    """The one plugged-in device with these USB ids; device names move between plugs,
    so this is asked on every (re)connect."""
    found = matching_ports(vid, pid, serial_number)
    if len(found) == 1:
        return found[0].device
    ids = _usb_ids(vid, pid, serial_number)
    if not found:
        raise Unavailable(f"no scanner with {ids} is plugged in")
    devices = ", ".join(port.device for port in found)
    raise Unavailable(f"{len(found)} scanners match {ids} ({devices}); set the serial number")


def open_port(where: str, baud: int) -> Any:
    port = serial.serial_for_url(where, do_not_open=True, baudrate=baud, timeout=READ_TIMEOUT_S)
    # Two programs reading one scanner would each get half of every burst. Only
    # local device files can be locked; network and loop transports cannot.
    if isinstance(port, serial.Serial):
        port.exclusive = True
        # pyserial flushes the input on open; what the device buffered while no one
        # was reading (a restart after a crash) are scans, and must be read.
        port._reset_input_buffer = lambda: None
    port.open()
    keep_alive(port)
    return port


def _usb_ids(vid: int | None, pid: int | None, serial_number: str | None) -> str:
    parts: list[str] = []
    if vid is not None or pid is not None:
        vid_text = f"{vid:04x}" if vid is not None else "*"
        pid_text = f"{pid:04x}" if pid is not None else "*"
        parts.append(f"USB id {vid_text}:{pid_text}")
    if serial_number is not None:
        parts.append(f"serial number {serial_number}")
    return " and ".join(parts)


def _is_device_path(where: str) -> bool:
    return "://" not in where


def cannot_open(where: str, exc: BaseException) -> str:
    if _is_device_path(where) and not os.path.exists(where):
        return f"device {where} not present"
    message = f"cannot open {where}: {exc}"
    if "waiting for option 'control'" in str(exc):
        # ser2net in front of a port without modem lines never acknowledges DTR/RTS.
        message += " (the server does not answer modem-control requests: add ?ign_set_control)"
    return message


def lost(where: str, exc: BaseException) -> str:
    if not _is_device_path(where):
        return f"connection to {where} dropped ({exc})"
    if not os.path.exists(where):
        return f"device {where} vanished"
    return f"device {where} stopped answering ({exc})"


def link_dropped(port: Any) -> bool:
    """After an empty read: has the RFC 2217 link gone, rather than the read timed out?

    pyserial's RFC 2217 client reads the socket on its own thread; when the server
    closes the connection that thread queues an end marker and exits, and the next
    `read` returns b'' early instead of raising. A timed-out read also returns b'',
    but with the thread still running. (If the thread has not quite exited yet, the
    following read raises "reader thread died", so the drop is caught either way.)
    """
    if not isinstance(port, rfc2217.Serial):
        return False
    thread = getattr(port, "_thread", None)
    return thread is None or not thread.is_alive()


def keep_alive(port: Any) -> None:
    sock = getattr(port, "_socket", None)
    if not isinstance(sock, socket.socket):
        return
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        for option, value in _KEEPALIVE:
            if hasattr(socket, option):
                sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, option), value)
    except OSError:
        log.debug("TCP keepalive not available on %r", port)


def close_port(port: Any) -> None:
    try:
        port.close()
    except Exception:
        # Closing a port whose device has vanished can fail; it is closed either way.
        log.debug("closing %r failed", port, exc_info=True)
