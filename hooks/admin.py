"""Nothing here: the endpoint admin lives with the endpoint API in deliveries.edges.endpoints (deliveries registers every admin)."""
