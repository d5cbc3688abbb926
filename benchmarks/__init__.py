"""Measurements (accuracy, latency, memory) run against the real servers."""
