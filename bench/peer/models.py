"""The peer's domain row; saving one enqueues its webhook on commit (the usual post_save recipe)."""
from django.db import connection, models, transaction
from django.db.models.signals import post_save
from django.dispatch import receiver


class PeerOrder(models.Model):
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "peer"
        db_table = "bench_peer_order"


@receiver(post_save, sender=PeerOrder, dispatch_uid="bench-peer-send")
def _send_on_commit(sender, instance, created, **kwargs):
    if created:
        from .app import send

        transaction.on_commit(lambda: send.delay(instance.pk))


def ensure_table() -> None:
    if PeerOrder._meta.db_table not in connection.introspection.table_names():
        with connection.schema_editor() as editor:
            editor.create_model(PeerOrder)
