"""manage.py prune: delete deliveries, attempts, events and alerts past their retention (HOOKLINE["RETENTION_*"])."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from deliveries import retention
from hookline import limits


class Command(BaseCommand):
    help = "Delete finished deliveries (with their attempts), spent events and old alerts past their retention period."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch",
            type=limits.count_argument,
            default=None,
            help="Deliveries per transaction, 1 or more (default PRUNE_BATCH).",
        )
        parser.add_argument(
            "--budget",
            type=limits.seconds_argument,
            default=3600.0,
            help="Stop after this many seconds (default 3600).",
        )
        parser.add_argument(
            "--pause", type=limits.seconds_argument, default=0.0, help="Seconds to sleep between batches."
        )

    def handle(
        self, *args: Any, batch: int | None = None, budget: float = 3600.0, pause: float = 0.0, **options: Any
    ) -> None:
        result = retention.prune(batch=batch, budget=budget, pause=pause)
        kept = ", ".join(
            f"{kind} since {cutoff:%Y-%m-%d %H:%M}" if cutoff else f"{kind} forever"
            for kind, cutoff in result.cutoffs.items()
        )
        others = "".join(f", {rows} {table.replace('_', ' ')}" for table, rows in result.others.items())
        self.stdout.write(
            f"Pruned {result.deliveries} deliveries, {result.attempts} attempts, {result.events} events, "
            f"{result.notifications} alerts{others} "
            f"in {result.batches} batches (longest {result.longest_batch_ms:.0f} ms). Kept: {kept}."
            + ("" if result.finished else " Time budget spent: run again to continue.")
        )
