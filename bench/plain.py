"""The yardstick for emit(): a plain domain row with a JSON field, in a table of the benchmark's own."""

from __future__ import annotations

from django.db import connection, models

from events.models import Organisation


class PlainRow(models.Model):
    """What a site's own insert looks like (an order with a JSON column): emit() rides on one of these."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "bench"
        db_table = "bench_plain_row"

    def __str__(self) -> str:
        return f"PlainRow {self.pk}"


def ensure_table() -> None:
    if PlainRow._meta.db_table not in connection.introspection.table_names():
        with connection.schema_editor() as editor:
            editor.create_model(PlainRow)
