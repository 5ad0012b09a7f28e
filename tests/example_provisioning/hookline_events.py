"""One domain event, two payload shapes: ``user.provisioning`` now, ``idprovisioning.<ACTION>`` for v1 receivers.

Copy this into your app's ``hookline_events.py``: Hookline imports that module of every installed app.
"""

from __future__ import annotations

import events

USER_PROVISIONING = "user.provisioning"
V1_ACTIONS = {"add": "ADD", "remove": "DELETE"}  # v1's names: idprovisioning.ADD / idprovisioning.DELETE


def provisioning_v1(key: str, payload: dict) -> tuple[str, dict] | None:
    """The v1 shape: the action in the key, a flat body with v1's field names; v1 has no "suspend"."""
    action = payload["action"]
    if action not in V1_ACTIONS:
        return None  # v1 receivers cannot understand this event: skip it (the delivery is cancelled)
    user = payload["user"]
    return f"idprovisioning.{V1_ACTIONS[action]}", {
        "UserId": str(user["id"]),
        "Mail": user["email"],
        "FirstName": user["given_name"],
        "LastName": user["family_name"],
    }


events.register(
    USER_PROVISIONING,
    description="A user was added, removed or suspended.",
    schema={
        "type": "object",
        "required": ["action", "user"],
        "properties": {
            "action": {"enum": ["add", "remove", "suspend"]},
            "user": {"type": "object", "required": ["id", "email", "given_name", "family_name"]},
        },
    },
    versions={"v1": provisioning_v1},
)
