"""Domain errors of delivery operations, each with a default message and code (mapped to API errors)."""
from hookline.exceptions import HooklineError


class EndpointNotReceiving(HooklineError):
    status_code = 409
    default_detail = "The endpoint is not receiving events: enable it first."
    default_code = "endpoint_not_receiving"


class PendingDeliveries(HooklineError):
    status_code = 409
    default_detail = "The endpoint still has pending deliveries; delete with force=true to cancel them."
    default_code = "pending_deliveries"


class TransformFailed(HooklineError):
    """A payload-version transformer raised: its delivery fails, the rest of the batch goes on."""

    default_detail = "The payload-version transformer failed."
    default_code = "transform_failed"
