"""Tests of db/: the record, the scan pipeline, import (real SQLite files in WAL mode)."""
