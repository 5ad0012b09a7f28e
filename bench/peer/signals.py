"""Saving a peer order enqueues its webhook on commit (post_save), as a small site wires it.

Its own module so that the model and the Celery app do not import each other: importing this
module registers the receiver (the producers do, before they save an order).
"""

import os

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from bench.peer.app import send
from bench.peer.models import PeerOrder


@receiver(post_save, sender=PeerOrder, dispatch_uid="bench-peer-send")
def _send_on_commit(sender, instance, created, **kwargs):
    if created:
        urls = [url for url in os.environ.get("BENCH_PEER_URLS", "").split(",") if url]
        if urls:
            transaction.on_commit(lambda: [send.delay(instance.pk, url) for url in urls])
        else:
            transaction.on_commit(lambda: send.delay(instance.pk))
