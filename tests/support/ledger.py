"""Accounts for every (event, endpoint) pair: what a receiver's journal got, and what the delivery log says."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Max, Q
from standardwebhooks.webhooks import Webhook as StandardWebhook
from standardwebhooks.webhooks import WebhookVerificationError

from deliveries.models import Delivery

from .receiver import Received


@dataclass
class Tally:
    """What arrived, against what was emitted: ``lost`` and ``duplicates`` are the figures that matter."""

    expected: int  # (event, endpoint) pairs that must arrive
    requests: int = 0
    arrived: int = 0  # distinct pairs that arrived at least once
    duplicates: int = 0  # requests beyond the first of their pair
    foreign: int = 0  # requests for no emitted event, or on a path not expected
    mixed_ids: list = field(default_factory=list)  # pairs whose requests carried a wrong webhook-id
    bad_signatures: int = 0
    missing: list = field(default_factory=list)

    @property
    def lost(self) -> int:
        return self.expected - self.arrived

    @property
    def duplicate_rate(self) -> float:
        return self.duplicates / self.expected if self.expected else 0.0

    def figures(self) -> dict:
        return {
            "pairs": self.expected,
            "requests": self.requests,
            "arrived": self.arrived,
            "lost": self.lost,
            "duplicates": self.duplicates,
            "duplicate_rate": round(self.duplicate_rate, 4),
        }


def account(received: list[Received], emitted: dict[int, str], secrets: dict[str, str]) -> Tally:
    """``emitted`` maps each event's payload number ``n`` to its id; ``secrets`` maps path to endpoint secret.

    Pairs are keyed by the payload, not by the header, so a duplicate with another webhook-id shows.
    """
    tally = Tally(expected=len(emitted) * len(secrets))
    verifiers = {path: StandardWebhook(secret) for path, secret in secrets.items()}
    seen: dict[tuple[str, int], list[str]] = defaultdict(list)
    for request in received:
        number = _number(request)
        if request.path not in secrets or number not in emitted:
            tally.foreign += 1
            continue
        tally.requests += 1
        seen[(request.path, number)].append(request.webhook_id)
        try:
            verifiers[request.path].verify(request.body, request.headers)
        except WebhookVerificationError:
            tally.bad_signatures += 1
    tally.arrived = len(seen)
    tally.duplicates = tally.requests - tally.arrived
    tally.mixed_ids = [pair for pair, ids in seen.items() if set(ids) != {emitted[pair[1]]}]
    tally.missing = [(path, n) for path in secrets for n in emitted if (path, n) not in seen][:20]
    return tally


def delivery_log_problems(deliveries=None) -> list[str]:
    """Inconsistencies in the log: attempt numbers with gaps, a delivery marked succeeded twice, and the like."""
    rows = (deliveries if deliveries is not None else Delivery.objects.all()).annotate(
        logged=Count("attempt_log"),
        highest=Max("attempt_log__number"),
        successes=Count("attempt_log", filter=Q(attempt_log__succeeded=True)),
    )
    problems = []
    for row in rows.values("id", "status", "total_attempts", "logged", "highest", "successes"):
        if row["logged"] != row["total_attempts"] or (row["highest"] or 0) != row["total_attempts"]:
            problems.append(
                f"delivery {row['id']}: {row['logged']} attempt rows, numbered up to {row['highest']}, "
                f"total_attempts {row['total_attempts']}"
            )
        if row["successes"] != (1 if row["status"] == Delivery.Status.SUCCEEDED else 0):
            problems.append(f"delivery {row['id']} is {row['status']} with {row['successes']} successful attempts")
    return problems


def statuses(deliveries=None) -> dict[str, int]:
    query = deliveries if deliveries is not None else Delivery.objects.all()
    return dict(Counter(query.values_list("status", flat=True)))


def _number(request: Received) -> int | None:
    try:
        return request.json["data"]["n"]
    except (ValueError, KeyError, TypeError):
        return None
