"""manage.py sweep: run the sweeper once (what beat does every HOOKLINE['SWEEP_INTERVAL'] seconds)."""

from typing import Any

from django.core.management.base import BaseCommand

from deliveries.tasks import sweep_task


class Command(BaseCommand):
    help = "Fan out stranded events and re-enqueue overdue deliveries now."

    def handle(self, *args: Any, **options: Any) -> None:
        count = sweep_task()
        self.stdout.write(f"Enqueued {count} delivery(ies).")
