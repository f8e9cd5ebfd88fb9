"""`shopfloor labels`: travelers, bin, item and badge labels, and the command sheet.

    shopfloor labels KIND [CODES...] --format png|svg|pdf|zpl --out PATH
                     [--size 57x32] [--paper A4] [--printer HOST[:PORT] | --lp QUEUE]

KIND is workorders (travelers), locations, items, badges or commands. No CODES means
every one of the kind (work orders: every open one); `--list` shows the codes. A PDF
is one document (a sheet of labels, the travelers one after another, or the command
sheet); PNG and SVG are one file per label, named by its code, in the --out directory
(or --out itself when it is one file of that type); ZPL is one job for a thermal
printer, written to --out and/or sent to `--printer` (raw, port 9100) or `--lp`.

The screens' own prints (a traveler, a bin or item label into the labels folder) are
tui.printing's; file naming and whole-or-nothing writes are devices.labels.files'.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

import click

from db import documents
from db.connection import default_db_path
from db.documents import UnknownCodes
from db.quantity import QuantityError, to_milli
from db.quantity import text as qty_text
from devices.labels import (
    PAPER,
    SIZES,
    Label,
    LabelSize,
    Traveler,
    command_sheet_pdf,
    render_png,
    render_svg,
    sheet_pdf,
    traveler_png_pages,
    travelers_pdf,
)
from devices.labels.files import file_names, write_file
from devices.labels.sheets import CommandGroups
from devices.printing import PrinterAddressError, PrinterError, parse_printer, send_lp, send_raw
from devices.zpl import labels_zpl
from tui.cli.output import emit, open_db, table
from tui.plain import json_text, visible
from tui.printing import DEFAULT_SIZE

Format = Literal["png", "svg", "pdf", "zpl"]
FORMATS: tuple[Format, ...] = ("png", "svg", "pdf", "zpl")
KINDS = ("workorders", "locations", "items", "badges", "commands")
LABEL_DPI = 203  # a thermal printer's; PNG and SVG bars are whole dots at it


class LabelsError(Exception):
    """Something a person can fix; the message is one line saying what."""


# ---------------------------------------------------------------- printers


def printer_address(text: str) -> tuple[str, int]:
    """--printer's address, or the one line that says how to write it."""
    try:
        return parse_printer(text)
    except PrinterAddressError as exc:
        raise LabelsError(f"--{exc}") from None


# ---------------------------------------------------------------- commands


def command_groups(db_path: str) -> CommandGroups:
    """The command sheet, with the plant's reasons when there is a database to read them
    from (the modes, actions and quantities need none)."""
    if not Path(db_path).exists():
        return documents.command_sheet()
    conn = open_db(db_path)
    try:
        return documents.command_sheet(conn)
    finally:
        conn.close()


def command_labels(
    codes: Sequence[str] = (), groups: CommandGroups | None = None
) -> dict[str, Label]:
    """The command sheet's labels by value; `codes` picks some (any QTY:n and LOT:x too)."""
    sheet = {
        label.value: label
        for _, labels in (documents.command_sheet() if groups is None else groups)
        for label in labels
    }
    if not codes:
        return sheet
    chosen: dict[str, Label] = {}
    unknown: list[str] = []
    for code in codes:
        value = code.strip()
        upper = value.upper()
        if upper in sheet or value in sheet:  # a reason code keeps its case
            key = upper if upper in sheet else value
            chosen[key] = sheet[key]
        elif upper.startswith("QTY:"):
            try:
                milli = to_milli(value[4:])
            except QuantityError:
                milli = -1
            if milli < 0:
                unknown.append(code)
                continue
            n = qty_text(milli)
            chosen[f"QTY:{n}"] = Label(f"QTY:{n}", f"Quantity {n}")
        elif upper.startswith("LOT:") and value[4:].strip():
            lot = value[4:].strip()
            chosen[f"LOT:{lot}"] = Label(f"LOT:{lot}", f"Lot {lot}")
        else:
            unknown.append(code)
    if unknown:
        raise LabelsError(
            "unknown command " + ", ".join(repr(c) for c in unknown)
            + ": `shopfloor labels commands --list` shows them (QTY:n and LOT:x take any value)"
        )  # fmt: skip
    return chosen


# ---------------------------------------------------------------- rendering


def render_label(label: Label, size: LabelSize, fmt: Format, dpi: int = LABEL_DPI) -> bytes:
    if fmt == "png":
        return render_png(label, size, dpi)
    if fmt == "svg":
        return render_svg(label, size, dpi).encode("utf-8")
    raise ValueError(f"one label is png or svg, not {fmt}")


# ---------------------------------------------------------------- the command


@dataclass
class _Job:
    """What one run produced: files to write (path, bytes), a payload to print, a summary."""

    files: list[tuple[Path, bytes]] = field(default_factory=list)
    payload: bytes = b""
    count: int = 0
    what: str = ""  # "12 labels", "3 travelers (4 pages)", "the command sheet"
    where: str = ""


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _infer_format(out: str | None, printing: bool) -> Format:
    suffix = Path(out).suffix.lower().lstrip(".") if out and out != "-" else ""
    if suffix in FORMATS:
        return suffix
    return "zpl" if printing else "pdf"


def _one_file(out: str, default_name: str) -> Path:
    """--out as one file: itself, or `default_name` inside it when it is a directory."""
    path = Path(out)
    if path.is_dir() or out.endswith(("/", os.sep)):
        return path / default_name
    return path


def _many_files(out: str, names: Sequence[str], fmt: Format) -> tuple[list[Path], str]:
    """Paths for several files: --out itself for one file named *.fmt, else a directory."""
    path = Path(out)
    names_one_file = path.suffix.lower() == f".{fmt}" and not path.is_dir()
    if names_one_file and len(names) == 1:
        return [path], str(path)
    if names_one_file:
        raise LabelsError(
            f"--out {out} names one file, but there are {len(names)} {fmt.upper()} files "
            "to write: give a directory"
        )
    if path.exists() and not path.is_dir():
        raise LabelsError(f"--out {out} is a file: give a directory for several {fmt} files")
    return [path / name for name in names], str(path).rstrip("/") + "/"


def _label_job(
    kind: str, labels: dict[str, Label], fmt: Format, size: LabelSize, paper: str, dpi: int,
    out: str | None, whole_sheet: CommandGroups | None,
) -> _Job:  # fmt: skip
    if not labels:
        raise LabelsError(f"there are no {kind} to print")
    job = _Job(count=len(labels), what=_plural(len(labels), "label"))
    if fmt == "zpl":
        job.payload = labels_zpl(list(labels.values()), size, dpi).encode("utf-8")
    elif fmt == "pdf":
        if whole_sheet is not None:
            job.payload = command_sheet_pdf(whole_sheet, paper)
            job.what = f"the command sheet ({_plural(len(labels), 'command')})"
        else:
            job.payload = sheet_pdf(list(labels.values()), size, paper)
    else:
        if out is None:
            raise LabelsError(f"give --out DIR for {fmt} files")
        rendered = [render_label(label, size, fmt, dpi) for label in labels.values()]
        paths, job.where = _many_files(out, file_names(list(labels), fmt), fmt)
        job.files = list(zip(paths, rendered, strict=True))
        return job
    if out is not None and out != "-":
        path = _one_file(out, f"{kind}.{fmt}")
        job.files = [(path, job.payload)]
        job.where = str(path)
    return job


def _check_traveler_format(fmt: Format, paper: str) -> None:
    if fmt in ("zpl", "svg"):
        raise LabelsError(
            f"travelers are {paper} documents, not {fmt.upper()} labels: use --format pdf "
            "(or png, one file per order)"
        )


def _traveler_job(items: list[Traveler], fmt: Format, paper: str, out: str | None) -> _Job:
    _check_traveler_format(fmt, paper)
    if not items:
        raise LabelsError("there are no open work orders to print travelers for")
    job = _Job(count=len(items))
    if fmt == "pdf":
        job.payload, pages = travelers_pdf(items, paper)
        job.what = f"{_plural(len(items), 'traveler')} ({_plural(pages, 'page')})"
        if out is not None:
            path = _one_file(out, "travelers.pdf")
            job.files = [(path, job.payload)]
            job.where = str(path)
        return job
    if out is None:
        raise LabelsError("give --out DIR (or FILE.png for one order) for png travelers")
    rendered = [traveler_png_pages(t, paper) for t in items]
    names = file_names([t.number for t in items], "png")
    paths, job.where = _many_files(out, names, "png")
    for path, pngs in zip(paths, rendered, strict=True):
        job.files.append((path, pngs[0]))
        for n, page in enumerate(pngs[1:], start=2):
            job.files.append((path.with_name(f"{path.stem}-{n}{path.suffix}"), page))
    job.what = _plural(len(items), "traveler")
    if len(job.files) > len(items):
        job.what += f" ({_plural(len(job.files), 'page')})"
    return job


def _list(kind: str, db_path: str, as_json: bool) -> None:
    if kind == "commands":
        rows = [
            {"code": label.value, "barcode": label.value, "name": label.title, "detail": group}
            for group, labels in command_groups(db_path)
            for label in labels
        ]
    else:
        conn = open_db(db_path)
        try:
            rows = documents.listing(conn, cast(documents.Kind, kind))
        finally:
            conn.close()
    emit(
        as_json,
        rows,
        lambda: table(
            [[r["code"], r["barcode"], r["name"], r["detail"]] for r in rows],
            ["code", "barcode", "name", "detail"],
        ),
    )


@click.command()
@click.argument("kind", type=click.Choice(KINDS))
@click.argument("codes", nargs=-1)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    help="Default: from --out's extension, else zpl when printing, else pdf.",
)
@click.option(
    "--size", type=click.Choice(list(SIZES)), default=DEFAULT_SIZE, show_default=True,
    help="Label stock (mm) for labels; travelers and the command sheet are on --paper.",
)  # fmt: skip
@click.option(
    "--paper", type=click.Choice(list(PAPER), case_sensitive=False), default="A4",
    show_default=True, help="Paper for PDF sheets and travelers.",
)  # fmt: skip
@click.option(
    "--dpi", type=click.IntRange(100, 1200), default=LABEL_DPI, show_default=True,
    help="Printer dots per inch for PNG, SVG and ZPL labels (ZPL: 152, 203, 300, 600).",
)  # fmt: skip
@click.option(
    "--out", "out", metavar="PATH",
    help="A file (pdf, zpl, one png/svg), a directory (several png/svg), or - (zpl to stdout).",
)  # fmt: skip
@click.option("--printer", metavar="HOST[:PORT]", help="Send ZPL raw to a label printer (9100).")
@click.option("--lp", "queue", metavar="QUEUE", help="Print through CUPS: ZPL raw, or a PDF.")
@click.option("--list", "list_codes", is_flag=True, help="List the codes of KIND, print nothing.")
@click.option(
    "--db", "db_path", type=click.Path(dir_okay=False), default=default_db_path,
    show_default="$SHOPFLOOR_DB or ./shopfloor.db", help="The floor's database file.",
)  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def labels(
    kind: str, codes: tuple[str, ...], fmt: Format | None, size: str, paper: str, dpi: int,
    out: str | None, printer: str | None, queue: str | None, list_codes: bool, db_path: str,
    as_json: bool,
) -> None:  # fmt: skip
    """Barcode labels and travelers: KIND is workorders, locations, items, badges or commands.

    \b
    shopfloor labels commands --format pdf --out sheet.pdf
    shopfloor labels workorders WO-24001 --out WO-24001.pdf
    shopfloor labels locations --format png --out bins/
    shopfloor labels items SCR-M6X16 --format zpl --printer 10.0.4.50:9100
    shopfloor labels badges --lp office --format pdf
    """
    if list_codes:
        _list(kind, db_path, as_json)
        return

    def say(line: str) -> None:
        # What was written goes to stderr when stdout carries JSON or the ZPL itself.
        click.echo(visible(line), err=as_json or out == "-")

    try:
        result = _run(kind, codes, fmt, size, paper, dpi, out, printer, queue, db_path, say)
    except (LabelsError, UnknownCodes, PrinterError) as exc:
        raise click.ClickException(_with_hint(exc, kind)) from None
    except ValueError as exc:  # a value that cannot be printed, or does not fit the label
        raise click.ClickException(f"cannot print: {exc}") from None
    except OSError as exc:  # the output cannot be written
        raise click.ClickException(f"cannot write {exc.filename or out}: {exc.strerror}") from None
    if as_json:
        click.echo(json_text(result))


def _with_hint(exc: Exception, kind: str) -> str:
    if isinstance(exc, UnknownCodes):
        return f"{exc}: `shopfloor labels {kind} --list` shows the codes"
    return str(exc)


def _run(
    kind: str, codes: tuple[str, ...], fmt: Format | None, size: str, paper: str, dpi: int,
    out: str | None, printer: str | None, queue: str | None, db_path: str,
    say: Callable[[str], None],
) -> dict[str, Any]:  # fmt: skip
    if printer and queue:
        raise LabelsError("give --printer or --lp, not both")
    resolved: Format = fmt or _infer_format(out, bool(printer or queue))
    if printer and resolved != "zpl":
        raise LabelsError(
            f"--printer sends ZPL to a label printer: use --format zpl "
            f"(or --lp QUEUE to print a {resolved} through CUPS)"
        )
    if queue and resolved not in ("zpl", "pdf"):
        raise LabelsError("--lp prints ZPL (raw) or a PDF: use --format zpl or pdf")
    if out == "-" and resolved != "zpl":
        raise LabelsError("--out - writes ZPL to standard output: use a file for a " + resolved)
    if out is None and not (printer or queue):
        raise LabelsError(
            "give --out PATH (a file or a directory), --printer HOST:PORT or --lp QUEUE"
        )
    where = printer_address(printer) if printer else None
    paper = next(name for name in PAPER if name.lower() == paper.lower())

    if kind == "workorders":
        _check_traveler_format(resolved, paper)  # before reading anything
        conn = open_db(db_path)
        try:
            job = _traveler_job(documents.travelers(conn, codes), resolved, paper, out)
        finally:
            conn.close()
    else:
        groups = command_groups(db_path) if kind == "commands" else None
        if groups is not None:
            chosen = command_labels(codes, groups)
        else:
            conn = open_db(db_path)
            try:
                chosen = documents.labels_for(conn, cast(documents.Kind, kind), codes)
            finally:
                conn.close()
        whole_sheet = groups if not codes else None
        job = _label_job(kind, chosen, resolved, SIZES[size], paper, dpi, out, whole_sheet)

    for path, data in job.files:
        write_file(path, data, private=kind == "badges")
    if job.files:
        say(f"wrote {job.what} to {job.where}")
    if out == "-":
        click.echo(job.payload.decode("utf-8"), nl=False)
    sent = None
    if where is not None:
        host, port = where
        send_raw(host, port, job.payload)
        sent = f"printer {host}:{port}" if ":" not in host else f"printer [{host}]:{port}"
    elif queue:
        send_lp(queue, job.payload, raw=resolved == "zpl")
        sent = f"lp queue {queue}"
    if sent:
        say(f"sent {job.what} to {sent}")
    return {
        "kind": kind,
        "format": resolved,
        "count": job.count,
        "files": [str(path) for path, _ in job.files],
        "sent_to": sent,
    }
