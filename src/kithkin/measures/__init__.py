"""Measurement-based care: instrument definitions as data, and the scoring engine."""
