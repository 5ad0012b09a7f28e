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


class BodyTooLarge(TransformFailed):
    """A rendered request body over HOOKLINE["MAX_REQUEST_BODY_BYTES"]: its delivery fails with the reason, nothing is
    sent."""

    status_code = 422
    default_detail = "The rendered request body is larger than HOOKLINE['MAX_REQUEST_BODY_BYTES']."
    default_code = "request_body_too_large"
