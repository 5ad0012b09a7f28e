"""A naive webhook sender for contrast (bench-only): post_save signal → one Celery task → one requests.post."""
