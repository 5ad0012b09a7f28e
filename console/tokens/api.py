"""POST /api/tokens/validate/: for receivers that cannot compute HMACs, did Hookline send this webhook-id?"""

from __future__ import annotations

from typing import Any

from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from deliveries.models import Delivery
from deliveries.tokens import validate_token
from hookline.api.base import HooklineAPIMixin
from hookline.api.schema import extend_schema

from .serializers import TokenCheckSerializer, TokenValidationSerializer


class TokenValidationView(HooklineAPIMixin, GenericAPIView[Any]):
    """For receivers that cannot compute HMACs: did Hookline send this webhook-id with this signature?"""

    serializer_class = TokenValidationSerializer

    @extend_schema(summary="Check a received signature", responses={200: TokenCheckSerializer})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        check = validate_token(
            body.validated_data["webhook_id"],
            signature=body.validated_data.get("signature", ""),
            token=body.validated_data.get("token", ""),
            deliveries=Delivery.objects.visible_to(request.user),
        )
        answer = {"valid": check.valid, "webhook": check.webhook_id, "event_type": check.event_type}
        return Response(TokenCheckSerializer(answer).data)
