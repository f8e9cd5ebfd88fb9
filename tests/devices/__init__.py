"""Tests of devices/: decoding, reading serial lines, labels read back with zbar."""
