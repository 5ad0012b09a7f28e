"""Each resource's edges in one place: its admin and its API, side by side (one sub-package per resource).

They live in ``deliveries`` because it is the only app that may import both others: an endpoint's admin
and API call delivery operations (send test, recover, delete with its log). ``deliveries.admin`` imports
every admin module once, so each model is registered exactly once; ``deliveries.api.urls`` routes the API.
"""
