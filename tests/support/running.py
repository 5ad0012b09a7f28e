"""Drive the worker's own path in-process: runs.run() claims (or fans out), hands to the senders, records.

The senders are inline here (tests/conftest.py): each request is sent and recorded on the test's
thread, inside its transaction. What the run scheduled comes back, so a test can read the retries'
delays and the deliveries that delivery control held back.
"""

from __future__ import annotations

import time

from deliveries import delivering, runs, senders
from deliveries.delivering import ScheduledRetry


def deliver(claimed: list | None = None) -> list[ScheduledRetry]:
    """One run, as a wake-up starts it: returns the retries recorded and the deliveries that wait (``waiting``).

    ``claimed``: deliveries claimed before (delivering.claim_due), handed to the senders as a run does.
    """
    scheduled: list[ScheduledRetry] = []

    def record(group):
        retries = delivering.record_done(group)
        scheduled.extend(retries)
        return retries

    def prepare(claimed, **options):
        prepared = original_prepare(claimed, **options)
        scheduled.extend(prepared.waits)
        return prepared

    original_prepare = delivering.prepare
    senders.install(senders.Senders(100, record, inline=True))
    delivering.prepare = prepare
    try:
        if claimed is None:
            runs.run()
        else:
            runs._send(senders.senders(), claimed, time.monotonic(), runs.RunResult())
    finally:
        delivering.prepare = original_prepare
        senders.install(senders.Senders(100, delivering.record_done, inline=True))
    return scheduled
