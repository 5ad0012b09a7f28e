"""The peer's domain row (signals.py enqueues its webhook on commit: the usual post_save recipe).

With BENCH_PEER_URLS (comma-separated) set in the producer's environment, each order is sent to
every one of those endpoints, one task per endpoint (the naive fan-out); otherwise one task to the
worker's BENCH_PEER_URL.
"""

from django.db import connection, models


class PeerOrder(models.Model):
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "peer"
        db_table = "bench_peer_order"

    def __str__(self) -> str:
        return f"PeerOrder {self.pk}"


def ensure_table() -> None:
    if PeerOrder._meta.db_table not in connection.introspection.table_names():
        with connection.schema_editor() as editor:
            editor.create_model(PeerOrder)
