"""The day's report written out (issue 11, item 6): Markdown and HTML from the Jinja2
templates beside this package, CSV and JSON from the same figures (db.day_report), and
the HTML's charts drawn offline as SVG (charts.py)."""
