"""A small plant for the tests: two stages, eight locations, six items, three work orders,
four reasons (two for scrap, one for holds, one for count adjustments).

The CSVs beside this file are the plant as an ERP would export it (SPEC §3);
`plant_db` loads them through the real import into a fresh database file. What the
tests need to know about the plant is restated below, so a test's expectation never
comes from the code under test.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

from db.masterdata import import_dir
from db.schema import init_db

PLANT_DIR = Path(__file__).parent
CSV_FILES = (
    "locations.csv",
    "stages.csv",
    "items.csv",
    "operators.csv",
    "routings.csv",
    "bom.csv",
    "stations.csv",
    "workorders.csv",
    "reasons.csv",
)

# 2026-01-01T00:00:00.000Z: a fixed start for clocks, so stamped times are exact.
EPOCH_MS = 1_767_225_600_000

LOT_TRACKED = frozenset({"P2", "C2"})
STAGE_LOCATION = {"CUT": "W-CUT", "ASSY": "W-ASSY"}
ROUTES: dict[str, list[tuple[int, str]]] = {
    "P1": [(10, "CUT"), (20, "ASSY")],
    "P2": [(10, "ASSY")],
}
# product -> [(component, qty per unit in thousandths, stage or None = the first stage)]
BOM: dict[str, list[tuple[str, int, str | None]]] = {
    "P1": [("C1", 500, "CUT"), ("C2", 2000, "ASSY"), ("C3", 1, None)],
    "P2": [("C1", 1250, "ASSY"), ("C3", 3000, None)],
}
# number -> (product, qty in thousandths, due)
ORDERS = {
    "WO1": ("P1", 10_000, "2030-01-15"),
    "WO2": ("P1", 2_500, "2020-01-10"),
    "WO3": ("P2", 4_000, "2030-02-01"),
}
# code -> kind
REASONS = {"DENT": "scrap", "BURR": "scrap", "QA": "hold", "MISCOUNT": "adjust"}
FINISHED = "FG"
SCRAP = "SCRAP"


def copy_plant(target: Path) -> Path:
    """The plant's CSVs copied into `target`, for tests that edit them."""
    target.mkdir(parents=True, exist_ok=True)
    for name in CSV_FILES:
        shutil.copy(PLANT_DIR / name, target / name)
    return target


def plant_db(path: Path) -> sqlite3.Connection:
    """A new database file at `path` holding the plant, through the real import."""
    conn = init_db(path)
    import_dir(conn, PLANT_DIR)
    return conn


class Ticker:
    """A clock for `db.connection.clock`: EPOCH_MS, then one second later at every reading."""

    def __init__(self, start: int = EPOCH_MS, step: int = 1000) -> None:
        self.ms = start - step
        self.step = step

    def __call__(self) -> int:
        self.ms += self.step
        return self.ms


def fixed(ms: int) -> Callable[[], int]:
    return lambda: ms
