"""The HTTP transport: post() one request through guarded keep-alive pools, cut at the total deadline."""

from .exchange import OutgoingRequest, TransportResult, post
from .guard import pools

__all__ = ["OutgoingRequest", "TransportResult", "pools", "post"]
