"""Benchmarks for shopfloor (spec section 7): each figure next to its reference."""
