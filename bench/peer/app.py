"""The peer's Celery app (`celery -A bench.peer.app worker`) and its one task: sign and POST one order.

No batching, no claims, no attempt log: one message and one `requests.post` per event, retried by
Celery on a connection error or a non-2xx answer. The receiver URL and secret come from the
environment (BENCH_PEER_URL, BENCH_PEER_SECRET), as a small site would configure one endpoint; with
several endpoints (BENCH_PEER_URLS, see models.py) each task carries its own URL.
"""

import base64
import hashlib
import hmac
import json
import os
import time

import requests
from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.peer.settings")

# set_as_current=False: imported by the benchmark next to Hookline's app, whose shared tasks must keep it.
app = Celery("peer", broker=os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/13"), set_as_current=False)
app.conf.update(
    task_default_queue="peer-bench",
    task_ignore_result=True,
    task_serializer="json",
    accept_content=["json"],
    broker_connection_retry_on_startup=True,
)


@app.task(name="peer.send", autoretry_for=(requests.RequestException,), retry_backoff=True, max_retries=5)
def send(order_id: int, url: str | None = None) -> None:
    from bench.peer.models import PeerOrder

    order = PeerOrder.objects.get(pk=order_id)
    body = json.dumps({"type": "order.created", "timestamp": order.created_at.isoformat(), "data": order.payload})
    msg_id, stamp = f"peer_{order.pk}", str(int(time.time()))
    secret = os.environ.get("BENCH_PEER_SECRET", "peer-secret").encode()
    digest = hmac.new(secret, f"{msg_id}.{stamp}.{body}".encode(), hashlib.sha256).digest()
    response = requests.post(
        url or os.environ["BENCH_PEER_URL"],
        data=body,
        timeout=10,
        headers={
            "content-type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": stamp,
            "webhook-signature": "v1," + base64.b64encode(digest).decode(),
        },
    )
    response.raise_for_status()
