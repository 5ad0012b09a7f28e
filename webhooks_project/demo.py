"""A tiny echo receiver served by the project itself, so a newcomer sees deliveries arrive."""

import json
import logging

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def echo(request: HttpRequest) -> JsonResponse:
    """Answers 200 with what it received; the admin's inspector shows this answer."""
    headers = {name.lower(): value for name, value in request.headers.items() if name.lower().startswith("webhook-")}
    try:
        body = json.loads(request.body or b"null")
    except json.JSONDecodeError:
        body = request.body.decode(errors="replace")
    logger.info(
        "Echo receiver got %s (%s)",
        headers.get("webhook-id"),
        (body or {}).get("type") if isinstance(body, dict) else "",
    )
    return JsonResponse({"received": True, "headers": headers, "body": body})
