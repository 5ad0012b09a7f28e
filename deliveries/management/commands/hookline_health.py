"""manage.py hookline_health: are the sweeper and the periodic check running, and is the backlog draining? Exit 1 if
not."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from deliveries import pulse


class Command(BaseCommand):
    help = (
        "Report the age of the last sweep and of the last periodic check, the backlog (undispatched events, "
        "due deliveries) and the oldest due delivery. Exits with status 1 when unhealthy."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="Print one JSON object (for monitoring).")

    def handle(self, *args: Any, **options: Any) -> None:
        report = pulse.report()
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), sort_keys=True))
        else:
            self.stdout.write(self._text(report.as_dict()))
        if not report.healthy:
            # CommandError sets the exit status; the problems are already on stdout.
            raise CommandError("unhealthy: " + " ".join(report.problems), returncode=1)

    @staticmethod
    def _text(figures: dict[str, Any]) -> str:
        def age(seconds: float | None) -> str:
            return "never" if seconds is None else f"{seconds:.1f} s ago"

        def oldest(seconds: float | None) -> str:
            return "" if seconds is None else f" (oldest {seconds:.1f} s)"

        lines = [
            f"status:               {'healthy' if figures['healthy'] else 'UNHEALTHY'}",
            f"last sweep:           {age(figures['last_sweep_seconds_ago'])}",
            f"last periodic check:  {age(figures['last_check_seconds_ago'])}",
            f"undispatched events:  {figures['undispatched_events']}{oldest(figures['oldest_undispatched_seconds'])}",
            f"due deliveries:       {figures['due_deliveries']}{oldest(figures['oldest_due_seconds'])}",
            *(f"problem: {problem}" for problem in figures["problems"]),
        ]
        return "\n".join(lines)
