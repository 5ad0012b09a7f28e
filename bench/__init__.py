"""Hookline's benchmark suite: scripts run by `make bench` (bench/run.py), not tests."""
