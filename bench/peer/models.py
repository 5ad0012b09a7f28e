"""The peer's domain row; saving one enqueues its webhook on commit (the usual post_save recipe).

With BENCH_PEER_URLS (comma-separated) set in the producer's environment, each order is sent to
every one of those endpoints, one task per endpoint (the naive fan-out); otherwise one task to the
worker's BENCH_PEER_URL.
"""

import os

from django.db import connection, models, transaction
from django.db.models.signals import post_save
from django.dispatch import receiver


class PeerOrder(models.Model):
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "peer"
        db_table = "bench_peer_order"

    def __str__(self) -> str:
        return f"PeerOrder {self.pk}"


@receiver(post_save, sender=PeerOrder, dispatch_uid="bench-peer-send")
def _send_on_commit(sender, instance, created, **kwargs):
    if created:
        from .app import send

        urls = [url for url in os.environ.get("BENCH_PEER_URLS", "").split(",") if url]
        if urls:
            transaction.on_commit(lambda: [send.delay(instance.pk, url) for url in urls])
        else:
            transaction.on_commit(lambda: send.delay(instance.pk))


def ensure_table() -> None:
    if PeerOrder._meta.db_table not in connection.introspection.table_names():
        with connection.schema_editor() as editor:
            editor.create_model(PeerOrder)
