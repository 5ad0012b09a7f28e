"""JSON log lines: one object per line, with the delivery fields a log line carries (HOOKLINE["LOG_FORMAT"])."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

# Attributes a log call may pass in ``extra`` that belong in the JSON object (deliveries.observe sets them).
FIELDS = ("webhook_id", "delivery", "endpoint", "attempt", "tenant", "outcome", "status", "duration_ms", "error")


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", ...FIELDS present, "exception"?}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            # A line that carries a field carries it even when null (a delivery line's status without an answer):
            # readers rely on every key being there.
            if hasattr(record, name):
                line[name] = getattr(record, name)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def format_celery_handlers(logger: logging.Logger | None = None, **kwargs: Any) -> None:
    """Celery's after_setup_logger: with LOG_FORMAT "json", its handlers write JSON lines as well."""
    from .conf import hookline_settings

    if logger is None or hookline_settings.LOG_FORMAT != "json":
        return
    for handler in logger.handlers:
        handler.setFormatter(JsonFormatter())
