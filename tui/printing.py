"""The app's own prints: a work order's traveler and an item's or a bin's label, written
into the labels folder beside the database for whoever prints them from there.

The screens import this inside their print workers: Pillow and the barcode code load
only when someone prints, not when the app starts.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from db import documents
from db.connection import connect
from devices.labels import SIZES, render_png, travelers_pdf
from devices.labels.files import safe_name, write_file

DEFAULT_SIZE = "57x32"  # label stock (mm), the `shopfloor labels` default too
LABELS_ENV = "SHOPFLOOR_LABELS"


def labels_dir(db_path: str | Path) -> Path:
    """Where the app writes what it prints: $SHOPFLOOR_LABELS, else `labels/` beside the db."""
    env = os.environ.get(LABELS_ENV)
    folder = Path(env) if env else Path(db_path).resolve().parent / "labels"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write_traveler(db_path: str | Path, number: str, *, paper: str = "A4") -> Path:
    """Work order `number`'s traveler as a PDF in the labels folder; returns its path."""
    conn = connect(db_path)
    try:
        t = documents.traveler(conn, number)
    finally:
        conn.close()
    pdf, _ = travelers_pdf([t], paper)
    path = labels_dir(db_path) / f"traveler-{safe_name(t.number)}.pdf"
    write_file(path, pdf)
    return path


def write_label(
    db_path: str | Path,
    kind: Literal["item", "location"],
    code: str,
    *,
    size: str = DEFAULT_SIZE,
) -> Path:
    """An item's or a location's label as a PNG in the labels folder; returns its path."""
    conn = connect(db_path)
    try:
        if kind == "item":
            label = documents.item_labels(conn, [code])
        else:
            label = documents.location_labels(conn, [code])
    finally:
        conn.close()
    [(key, value)] = label.items()
    path = labels_dir(db_path) / f"{kind}-{safe_name(key)}.png"
    write_file(path, render_png(value, SIZES[size]))
    return path
