"""Tests for shopfloor."""
