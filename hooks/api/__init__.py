"""The endpoint's API representation and list filters (the views live in deliveries.api, which may call delivery operations)."""
