"""Which serial ports this machine has, and which one is a given scanner by its USB ids.

USB device names (/dev/ttyACM0, /dev/ttyUSB1) move between plugs and reboots; the
vendor id, product id and serial number do not. The reader asks here on every
(re)connect when a scanner is configured by USB ids.
"""

from __future__ import annotations

from dataclasses import dataclass

from serial.tools import list_ports

__all__ = ["PortInfo", "find_port", "list_scanner_ports", "matching_ports"]


@dataclass(frozen=True)
class PortInfo:
    """One serial port as the operating system describes it."""

    device: str
    vid: int | None
    pid: int | None
    serial_number: str | None
    manufacturer: str | None
    description: str | None


def list_scanner_ports() -> list[PortInfo]:
    """Every serial port present now, USB or not, sorted by device name."""
    ports = [
        PortInfo(
            device=str(port.device),
            vid=port.vid,
            pid=port.pid,
            serial_number=port.serial_number,
            manufacturer=port.manufacturer,
            description=port.description,
        )
        for port in list_ports.comports()
    ]
    return sorted(ports, key=lambda port: port.device)


def matching_ports(vid: int | None, pid: int | None, serial_number: str | None) -> list[PortInfo]:
    """Ports whose USB ids equal every id given (None means any)."""
    return [
        port
        for port in list_scanner_ports()
        if port.vid is not None
        and (vid is None or port.vid == vid)
        and (pid is None or port.pid == pid)
        and (serial_number is None or port.serial_number == serial_number)
    ]


def find_port(vid: int | None, pid: int | None, serial_number: str | None) -> str | None:
    """The device path of the one port with these USB ids, or None.

    Two identical scanners without a serial number match the same ids; guessing
    would book one station's scans to another, so more than one match is None too.
    """
    found = matching_ports(vid, pid, serial_number)
    return found[0].device if len(found) == 1 else None
