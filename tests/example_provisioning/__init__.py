"""An example app declaring one event type with a v1 payload transformer (see docs/endpoints.md, "Payload versions")."""
