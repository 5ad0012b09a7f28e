"""The /metrics endpoint: Prometheus' text format for staff sessions or a bearer token."""
