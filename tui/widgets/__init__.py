"""Widgets the floor screens share: text bars, the board table, the scan log."""
