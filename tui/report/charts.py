"""The report's charts: SVG drawn by pygal, offline, to sit inside the HTML page.

pygal adds a script to every chart (its interactive tooltips, loaded from the web, and
the chart's settings); a printed report needs neither, and a page that loads nothing
should not carry them, so both are taken out, with pygal's comments. Every label is
text from the record: written through `visible`, so no control character reaches the
XML (where it is not even allowed), and ElementTree escapes the rest.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import date, timedelta

import pygal
from pygal.style import Style

from db.day_report import StageDay
from tui.plain import visible

# Dark enough to print on a black-and-white printer; one colour per series.
_STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#222",
    foreground_strong="#000",
    foreground_subtle="#555",
    colors=("#1f4e79", "#c0504d", "#7f7f7f", "#9bbb59", "#8064a2", "#f79646", "#4bacc6"),
    font_family="Helvetica, Arial, sans-serif",
    title_font_size=14,
    label_font_size=11,
    major_label_font_size=11,
    legend_font_size=11,
)
_SVG = "{http://www.w3.org/2000/svg}"


def _svg(chart: pygal.graph.graph.Graph) -> str:
    root = chart.render_tree()
    for parent in root.iter():
        for child in list(parent):
            if child.tag in (f"{_SVG}script", "script") or child.tag is ET.Comment:
                parent.remove(child)
    ET.register_namespace("", _SVG[1:-1])
    ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")
    return ET.tostring(root, encoding="unicode")


def _config(title: str, **more: object) -> dict[str, object]:
    return {
        "title": visible(title),
        "style": _STYLE,
        "js": [],
        "disable_xml_declaration": True,
        "width": 760,
        "height": 300,
        "legend_at_bottom": True,
        "print_zeroes": False,
        **more,
    }


def _units(milli: int) -> float:
    return milli / 1000


def completed_by_stage(stages: Sequence[StageDay], day: date) -> str:
    """Units completed and scrapped per department on the day."""
    chart = pygal.StackedBar(**_config(f"Completed and scrapped per department, {day}"))
    chart.x_labels = [visible(s.code) for s in stages]
    chart.add("completed", [_units(s.completed_milli) for s in stages])
    chart.add("scrapped", [_units(s.scrap_milli) for s in stages])
    return _svg(chart)


def planned_hours(stages: Sequence[StageDay]) -> str:
    """Working hours planned at each department, against one day of its capacity."""
    chart = pygal.Bar(**_config("Hours of work planned per department, against a day's hours"))
    chart.x_labels = [visible(s.code) for s in stages]
    chart.add("planned hours", [round(s.planned_hours, 1) for s in stages])
    chart.add("hours per day", [s.hours_per_day for s in stages])
    return _svg(chart)


def throughput(stages: Sequence[StageDay], day: date) -> str:
    """Units completed per day by each department, over the week ending on the day."""
    days = len(stages[0].daily_milli) if stages else 0
    chart = pygal.Line(**_config(f"Units completed per day, the {days} days to {day}"))
    chart.x_labels = [(day - timedelta(days=days - 1 - n)).strftime("%a %d") for n in range(days)]
    for s in stages:
        chart.add(visible(s.code), [_units(v) for v in s.daily_milli])
    return _svg(chart)
