"""Nothing here: the admin of organisations, the catalog and the event log lives in deliveries.edges (deliveries registers every admin)."""
