"""The REST API root (``include("console.api.urls")``) and the organisation a request acts for; each resource's views
are in console.<resource>."""
