"""The `shopfloor` material commands: `shortages` (every open order's components netted
against stock and supply, db.shortages) and `picklist ORDER` (what to issue from which
bin), read-only."""

from __future__ import annotations

import sqlite3

import click

from db.quantity import json_number
from tui.cli.output import db_option, emit, json_option, open_db, table

# What each answer of db.shortages says to a person.
ANSWER_WORDS = {
    "issued": "issued",
    "to_pick": "to pick",
    "on_order": "on order",
    "supply_late": "SUPPLY LATE",
    "short": "SHORT",
}


def _known_order(conn: sqlite3.Connection, number: str) -> None:
    if conn.execute("SELECT 1 FROM work_orders WHERE number = ?", (number,)).fetchone() is None:
        raise click.ClickException(
            f"work order {number} does not exist: `shopfloor status` lists the orders"
        )


@click.command()
@db_option
@json_option
@click.option("--order", "number", help="One work order: every line of its bill.")
def shortages(db_path: str, as_json: bool, number: str | None) -> None:
    """Per open order and component: required, issued, to issue, from stock, from
    supply, short (every open order's lines with something to issue; --order: all of
    that order's lines)."""
    from db.shortages import shortages as netted

    conn = open_db(db_path)
    if number is not None:
        _known_order(conn, number)
    lines = netted(conn, order=number)
    if number is None:
        lines = [line for line in lines if line.to_issue_milli]
    rows = [
        {
            "work_order": line.work_order,
            "item": line.item,
            "uom": line.uom,
            "stage": line.stage,
            "required": json_number(line.required_milli),
            "issued": json_number(line.issued_milli),
            "to_issue": json_number(line.to_issue_milli),
            "from_stock": json_number(line.from_stock_milli),
            "from_supply": json_number(line.from_supply_milli),
            "short": json_number(line.short_milli),
            "supply": [s.number for s in line.supply],
            "answer": line.answer,
            "needed_by": line.needed_by,
        }
        for line in lines
    ]

    def human() -> str:
        if not lines:
            return "nothing to issue: every open order holds what its bill still needs"
        return table(
            [
                [row["work_order"], row["item"], row["uom"], row["required"], row["issued"],
                 row["to_issue"], row["from_stock"], row["from_supply"], row["short"],
                 ANSWER_WORDS[line.answer], " ".join(f"{s.number} {s.due}" for s in line.supply)]
                for row, line in zip(rows, lines, strict=True)
            ],
            ["order", "item", "uom", "required", "issued", "to issue", "from stock",
             "from supply", "short", "answer", "supply (due)"],
        )  # fmt: skip

    emit(as_json, rows, human)


@click.command()
@db_option
@json_option
@click.argument("number", metavar="ORDER")
def picklist(db_path: str, as_json: bool, number: str) -> None:
    """What to issue to ORDER now, bin by bin, oldest lot first."""
    from db.shortages import pick_list

    conn = open_db(db_path)
    _known_order(conn, number)
    lines = pick_list(conn, number)
    rows = [
        {
            "item": line.item,
            "uom": line.uom,
            "location": pick.location,
            "lot": pick.lot or None,
            "qty": json_number(pick.qty_milli),
        }
        for line in lines
        for pick in line.picks
    ]

    def human() -> str:
        if not rows:
            return f"work order {number}: nothing to pick from the stores"
        return f"pick list for work order {number}\n" + table(
            [[r["item"], r["location"], r["lot"], r["qty"], r["uom"]] for r in rows],
            ["item", "from bin", "lot", "qty", "uom"],
        )

    emit(as_json, rows, human)


@click.command(name="packing-slip")
@db_option
@click.argument("number", metavar="SALES_ORDER")
@click.option(
    "--out", "out", required=True, type=click.Path(dir_okay=False), help="The PDF to write."
)
@click.option("--paper", default="A4", show_default=True, help="A4 or Letter.")
def packing_slip(db_path: str, number: str, out: str, paper: str) -> None:
    """The packing slip of a sales order as a PDF: its lines, what shipped against them,
    and its barcode (SO:number) for the shipping station."""
    from datetime import date
    from pathlib import Path

    from db.documents import packing_slip as slip_of
    from devices.labels import packing_slip_pdf, paper_size
    from devices.labels.files import write_file

    try:
        paper_size(paper)
        slip = slip_of(open_db(db_path), number, printed=date.today().isoformat())
    except (LookupError, ValueError) as refused:
        raise click.ClickException(str(refused.args[0])) from None
    path = Path(out)
    if path.suffix.lower() != ".pdf":
        raise click.ClickException(f"{out}: a packing slip is a PDF; name the file .pdf")
    try:
        write_file(path, packing_slip_pdf(slip, paper))
    except OSError as exc:
        raise click.ClickException(f"{out}: not written: {exc.strerror or exc}") from None
    click.echo(f"packing slip {number} written to {out}")
