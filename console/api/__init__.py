"""The REST API's URLs (``include("deliveries.api.urls")``); each resource's views are in deliveries.edges."""
