"""The REST API's endpoint, delivery and token views, and its URLs: here because they call delivery operations."""
