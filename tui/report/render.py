"""The day's report in each format `shopfloor report` writes: md, html, csv, json.

Markdown and HTML come from the Jinja2 templates in templates/; CSV and JSON from the
same figures, laid flat. Text from the record (scans, names, reasons) is only ever
text: in HTML autoescape is on and every value is made `visible` first (a control
character shows as its escape); in Markdown every value passes the template's
finalize, which escapes what Markdown or embedded HTML would read as syntax; in CSV a
cell a spreadsheet would run as a formula starts with an apostrophe.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any

import jinja2
from markupsafe import Markup

from db.day_report import DayReport, OrderAtRisk
from db.quantity import json_number
from db.quantity import text as qty_text
from db.reports import iso_time
from tui.plain import json_text, visible
from tui.report import charts

FORMATS = ("md", "html", "csv", "json")


# ---------------------------------------------------------------- values as text


def _clock(ms: int) -> str:
    """Local date and time of a stamp, to the minute."""
    return datetime.fromtimestamp(ms / 1000).astimezone().strftime("%Y-%m-%d %H:%M")


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def _hours(value: float) -> str:
    return f"{value:.1f}"


def _visible(value: Any) -> Any:
    """Text from the record with its control characters as escapes; our own markup (the
    charts) as it is. Autoescape then escapes the text."""
    if isinstance(value, Markup) or not isinstance(value, str):
        return value
    return visible(value)


# Markdown reads these as syntax (and < & as HTML); a backslash makes each a character.
# ( ) and ! mean something only after [ ], which are escaped.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#+|~&])")


def _markdown_text(value: Any) -> str:
    """A value as Markdown text: every character shown as itself, on one line."""
    if value is None:
        return ""
    text = visible(str(value)).replace("\n", " ")
    return _MD_SPECIAL.sub(r"\\\1", text)


_FILTERS: dict[str, Callable[..., str]] = {
    "qty": qty_text,
    "clock": _clock,
    "when": _when,
    "hours": _hours,
}


def _environment(markdown: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("tui.report", "templates"),
        autoescape=not markdown,
        finalize=_markdown_text if markdown else _visible,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(_FILTERS)
    return env


# ---------------------------------------------------------------- the formats


def _template_values(report: DayReport) -> dict[str, Any]:
    return {
        "r": report,
        "made": _clock(report.made_ms),
        "title": f"Day report {report.day.isoformat()}"
        + (f", {report.stage}" if report.stage else ""),
    }


def markdown(report: DayReport) -> str:
    return (
        _environment(markdown=True).get_template("report.md.j2").render(**_template_values(report))
    )


def html(report: DayReport) -> str:
    stages = report.stages
    figures = {
        "completed": charts.completed_by_stage(stages, report.day),
        "planned": charts.planned_hours(stages),
        "throughput": charts.throughput(stages, report.day),
    }
    return (
        _environment(markdown=False)
        .get_template("report.html.j2")
        .render(
            **_template_values(report),
            # pygal's SVG, built by ElementTree from labels made visible: markup by design.
            charts={name: Markup(svg) for name, svg in figures.items()} if stages else {},
        )
    )


def payload(report: DayReport) -> dict[str, Any]:
    """The report as JSON: quantities as exact numbers named without `_milli`, stamps as
    ISO-8601 UTC, the forecast's times with their offset."""
    result: dict[str, Any] = _json(report)
    result["completed"] = json_number(report.completed_milli)
    result["scrap"] = json_number(report.scrap_milli)
    for stage, data in zip(report.stages, result["stages"], strict=True):
        data["orders_completed"] = stage.orders_completed
    return result


def _json(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {}
        for spec in dataclasses.fields(value):
            item = getattr(value, spec.name)
            name = spec.name
            if name.endswith("_ms") and isinstance(item, int):
                out[name[:-3]] = iso_time(item)
            elif name.endswith("_milli"):
                out[name[:-6]] = (
                    [json_number(v) for v in item] if isinstance(item, tuple) else json_number(item)
                )
            else:
                out[name] = _json(item)
        return out
    if isinstance(value, tuple | list):
        return [_json(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def json_document(report: DayReport) -> str:
    return json_text(payload(report)) + "\n"


CSV_COLUMNS = (
    "section", "stage", "work_order", "product", "units", "scrap", "due", "projected_finish",
    "holding_stage", "risk", "item", "who", "time", "detail",
)  # fmt: skip
# A spreadsheet runs a cell starting with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        text = visible(value)
        return "'" + text if text.startswith(_FORMULA_START) else text
    return value


def _risk_rows(
    section: str, orders: tuple[OrderAtRisk, ...], stage: str = ""
) -> Iterator[dict[str, Any]]:
    for o in orders:
        yield {
            "section": section, "stage": stage or o.holding_stage or "", "work_order": o.number,
            "product": o.product, "units": json_number(o.completed_milli), "due": o.due,
            "projected_finish": o.projected_finish.isoformat(), "holding_stage": o.holding_stage,
            "risk": o.risk, "detail": "; ".join(o.reasons),
        }  # fmt: skip


def _csv_rows(report: DayReport) -> Iterator[dict[str, Any]]:
    for s in report.stages:
        yield {
            "section": "department", "stage": s.code, "units": json_number(s.completed_milli),
            "scrap": json_number(s.scrap_milli),
            "detail": f"{s.orders_completed} orders completed; queue {s.queue_orders} orders, "
            f"{qty_text(s.waiting_milli)} units; {_hours(s.planned_hours)} h planned "
            f"({_hours(s.hours_per_day)} h a day)",
        }  # fmt: skip
        for done in s.by_order:
            yield {
                "section": "completed", "stage": s.code, "work_order": done.number,
                "product": done.product, "units": json_number(done.units_milli),
                "scrap": json_number(done.scrap_milli),
            }  # fmt: skip
        for why in s.scrap_by_reason:
            yield {
                "section": "scrap_by_reason", "stage": s.code,
                "scrap": json_number(why.scrap_milli),
                "detail": f"{why.reason or '(none)'}: {why.description}",
            }  # fmt: skip
    for f in report.finished:
        yield {
            "section": "order_finished", "work_order": f.number, "product": f.product,
            "units": json_number(f.completed_milli), "due": f.due, "time": iso_time(f.time_ms),
            "detail": "after its due date" if f.after_due else "",
        }  # fmt: skip
    yield from _risk_rows("late", report.late)
    yield from _risk_rows("at_risk", report.at_risk)
    for line in report.shortages or ():
        yield {
            "section": "shortage", "stage": line.stage, "work_order": line.work_order,
            "item": line.item, "units": json_number(line.short_milli), "risk": line.answer,
            "detail": f"required {qty_text(line.required_milli)}, issued "
            f"{qty_text(line.issued_milli)}, from stock {qty_text(line.from_stock_milli)}, "
            f"from supply {qty_text(line.from_supply_milli)} "
            f"({', '.join(s.number for s in line.supply) or 'none'})",
        }  # fmt: skip
    for scan in report.rejected:
        yield {
            "section": "rejected_scan", "time": iso_time(scan.time_ms), "item": scan.raw,
            "detail": f"at {scan.station}: {scan.reason}",
        }  # fmt: skip
    for change in report.due_changes:
        yield {
            "section": "due_change", "work_order": change.work_order, "due": change.new_due,
            "who": change.by, "time": iso_time(change.time_ms),
            "detail": f"from {change.old_due}: {change.reason}",
        }  # fmt: skip
    found = report.check
    if found is not None:
        yield {
            "section": "check", "units": found.movements,
            "detail": ("ok" if found.ok else "FAILED: " + "; ".join(found.differences))
            + f" ({found.movements} movements, {found.progress_entries} progress "
            "entries checked)",
        }  # fmt: skip


def csv_document(report: DayReport) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in _csv_rows(report):
        writer.writerow({key: _cell(value) for key, value in row.items()})
    return out.getvalue()


RENDERERS: dict[str, Callable[[DayReport], str]] = {
    "md": markdown,
    "html": html,
    "csv": csv_document,
    "json": json_document,
}


def render(report: DayReport, fmt: str) -> str:
    return RENDERERS[fmt](report)
