"""Deterministic demo data for the dashboard, the tests and load checks."""
