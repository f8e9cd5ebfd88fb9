"""The plant server's commands: the app in a browser (`serve`, `passwd`), the systemd
units (`units`) and the listener's word to systemd (`service_hooks`), and the online
backup and its restore (`backup`, `restore`).

`serve` runs textual-serve: each browser tab is its own `shopfloor` process on the
board, reading the same file as every terminal. Off the loopback it does not start
without a password file, and every request (page, static file, websocket) without a
good password is answered 401. The browser session is like any terminal: changing the
record beyond looking needs a badge with its role (SPEC §8).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import shlex
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tui.cli.output import db_option, emit, json_option, open_db
from tui.plain import visible

if TYPE_CHECKING:
    from aiohttp import web

    from tui.cli.passwords import Passwords

DEFAULT_PORT = 8000


def service_hooks(scanners: int, say: Callable[[str], None]) -> dict[str, Any]:
    """The Listener's hooks for systemd (db.notify): READY=1 once every scanner was opened
    or found missing, WATCHDOG=1 after each heartbeat that committed. Nothing without
    $NOTIFY_SOCKET."""
    from db.notify import ServiceNotifier
    from db.scanners import HEARTBEAT_S

    service = ServiceNotifier()
    if not service.active:
        return {}

    def ready(missing: list[str]) -> None:
        words = f"reading {scanners - len(missing)} of {scanners} scanner(s)"
        if missing:
            words += f"; not there yet: {', '.join(missing)}"
        service.ready(words)
        say(f"told the service manager: ready, {words}")

    return {
        "on_ready": ready,
        "on_alive": service.alive,
        "heartbeat_s": min(HEARTBEAT_S, service.ping_every_s or HEARTBEAT_S),
    }


# ---------------------------------------------------------------- the app in a browser


def loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _app_command(db_path: str) -> str:
    """The command textual-serve runs per browser tab: this interpreter, this project."""
    return shlex.join([sys.executable, "-c", "from tui.cli import main; main()", "--db", db_path])


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    if not header or not header.startswith("Basic "):
        return None
    try:
        name, sep, password = base64.b64decode(header[6:], validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (name, password) if sep else None


Handler = Callable[["web.Request"], Awaitable["web.StreamResponse"]]


def _password_gate(passwords: Passwords) -> Any:
    from aiohttp import web

    @web.middleware
    async def gate(request: web.Request, handler: Handler) -> web.StreamResponse:
        given = _basic_credentials(request.headers.get("Authorization"))
        if given is None or not passwords.allows(*given):
            raise web.HTTPUnauthorized(
                text="shopfloor: a name and password from the plant's password file are "
                "needed here\n",
                headers={"WWW-Authenticate": 'Basic realm="shopfloor", charset="UTF-8"'},
            )
        return await handler(request)

    return gate


def _office_server(
    command: str, host: str, port: int, public_url: str | None, passwords: Passwords | None
) -> Any:
    from textual_serve.server import Server

    class OfficeServer(Server):
        async def _make_app(self) -> web.Application:
            app = await super()._make_app()
            if passwords is not None:
                app.middlewares.append(_password_gate(passwords))
            return app

    return OfficeServer(command, host=host, port=port, title="shopfloor", public_url=public_url)


@click.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--passwords",
    "password_file",
    type=click.Path(dir_okay=False),
    help="Password file (`shopfloor passwd`); required off the loopback.",
)
@click.option(
    "--public-url",
    help="The address browsers use, e.g. http://floor-server:8000 (default: from --host).",
)
def serve(
    db_path: str, host: str, port: int, password_file: str | None, public_url: str | None
) -> None:
    """The app in a browser for the office (textual-serve): one board per browser tab."""
    from tui.cli.passwords import PasswordFileError, Passwords

    open_db(db_path).close()
    if password_file is None and not loopback(host):
        raise click.ClickException(
            f"refusing to serve on {host} without a password file: anyone on the network "
            "could open the floor. Add people with `shopfloor passwd --file FILE NAME` and "
            "give --passwords FILE (or serve on 127.0.0.1 behind your own proxy)"
        )
    passwords = None
    if password_file is not None:
        try:
            passwords = Passwords(Path(password_file))
        except PasswordFileError as exc:
            raise click.ClickException(str(exc)) from None
    if public_url is None and host in ("0.0.0.0", "::"):
        import socket

        public_url = f"http://{socket.getfqdn()}:{port}"
    server = _office_server(
        _app_command(str(Path(db_path).resolve())), host, port, public_url, passwords
    )
    try:
        server.serve()
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from None


@click.command()
@click.option(
    "--file",
    "password_file",
    required=True,
    type=click.Path(dir_okay=False),
    help="The password file `shopfloor serve --passwords` reads (created 0600).",
)
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin."
)
@click.argument("name")
def passwd(password_file: str, password_stdin: bool, name: str) -> None:
    """Add a person to the office's password file, or change their password."""
    from tui.cli.passwords import PasswordFileError, new_entry, write_entry

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    try:
        replaced = write_entry(Path(password_file), new_entry(name, password))
    except PasswordFileError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"{password_file}: cannot write: {exc.strerror}") from None
    click.echo(f"{'changed the password of' if replaced else 'added'} {visible(name)} "
               f"in {visible(password_file)}")  # fmt: skip


# ---------------------------------------------------------------- systemd units


@click.command()
@db_option
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False))
@click.option("--user", default="shopfloor", show_default=True, help="The service account.")
@click.option(
    "--config",
    "config_path",
    default="/etc/shopfloor/scanners.toml",
    show_default=True,
    help="The scanners' TOML file the listen service reads.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="serve's address.")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--passwords",
    "password_file",
    default="/etc/shopfloor/office.passwords",
    show_default=True,
    help="serve's password file (used off the loopback).",
)
@click.option("--station", default="STORES", show_default=True, help="The local kiosk's station.")
def units(
    db_path: str,
    out_dir: str,
    user: str,
    config_path: str,
    host: str,
    port: int,
    password_file: str,
    station: str,
) -> None:
    """Write systemd units: listen (notify, watchdog), serve, and a local kiosk's getty."""
    from tui.cli.units import UnitSettings, write_units

    settings = UnitSettings(
        shopfloor=str(Path(sys.executable).parent / "shopfloor"),
        db_path=str(Path(db_path).resolve()),
        user=user,
        config=config_path,
        host=host,
        port=port,
        passwords=None if loopback(host) else password_file,
        station=station,
    )
    try:
        written = write_units(Path(out_dir), settings)
    except OSError as exc:
        raise click.ClickException(f"{out_dir}: cannot write: {exc.strerror}") from None
    for path in written:
        click.echo(visible(str(path)))


# ---------------------------------------------------------------- backup and restore


@click.command()
@db_option
@json_option
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False))
def backup(db_path: str, as_json: bool, out_file: str) -> None:
    """Copy the database while scanners keep writing, and check the copy."""
    from db.backup import BackupRefused
    from db.backup import backup as take_backup

    conn = open_db(db_path)
    try:
        report = take_backup(conn, Path(out_file))
    except BackupRefused as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        conn.close()
    payload = {
        "file": str(report.path), "bytes": report.bytes, "scans": report.scans,
        "movements": report.movements, "seconds": round(report.seconds, 3),
        "integrity": "ok", "check": "ok" if not report.differences else report.differences,
    }  # fmt: skip
    emit(
        as_json,
        payload,
        lambda: (
            f"backed up {db_path} to {report.path}: {report.bytes} bytes, "
            f"{report.scans} scans, {report.movements} movements in {report.seconds:.2f} s; "
            "integrity ok, " + ("check ok" if not report.differences else "check found differences")
        ),
    )
    if report.differences:
        click.echo(
            "the copy holds the database's own differences (run `shopfloor check`):", err=True
        )
        for line in report.differences:
            click.echo(f"  {visible(line)}", err=True)
        sys.exit(1)


@click.command()
@db_option
@click.argument("backup_file", type=click.Path(exists=True, dir_okay=False))
def restore(db_path: str, backup_file: str) -> None:
    """Put a backup in place of the database; the replaced one is kept beside it."""
    from db.backup import BackupRefused
    from db.backup import restore as put_back

    conn = open_db(db_path)
    try:
        aside, report = put_back(conn, Path(db_path), Path(backup_file))
    except BackupRefused as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        conn.close()
    click.echo(
        f"restored {visible(backup_file)} into {visible(db_path)}: {report.scans} scans, "
        f"{report.movements} movements; the replaced database is kept as {visible(str(aside))}"
    )
    if report.differences:
        click.echo("check found differences in the restored record:", err=True)
        for line in report.differences:
            click.echo(f"  {visible(line)}", err=True)
        sys.exit(1)
