"""Hookline deliveries: the delivery log, the Celery tasks, HTTP transport and retry policy."""
