"""Test support: real loopback receivers (http and https), a forward proxy, real Celery worker processes, waiting
helpers."""
