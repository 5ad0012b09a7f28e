"""Test support: real loopback receivers, real Celery worker processes, waiting helpers."""
