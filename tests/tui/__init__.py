"""Tests of tui/: the app, its screens (Pilot and SVG snapshots) and the command line."""
