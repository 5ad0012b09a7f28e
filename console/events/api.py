"""POST /api/events/: emit over HTTP, with the same checks as ``events.emit``."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from rest_framework import mixins, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

import events
from console.api.tenancy import default_organisation
from events.models import Event
from hookline.api.base import HooklineAPIMixin
from hookline.api.schema import extend_schema
from hookline.api.throttling import EmitRateThrottle

from .filters import EventFilter
from .serializers import EmitSerializer, EventSerializer


class EmitView(HooklineAPIMixin, mixins.ListModelMixin, GenericAPIView):
    """Emit an event over HTTP, for producers that are not Python: the same validation as ``events.emit``; GET lists
    them."""

    throttle_classes = [EmitRateThrottle]
    filterset_class = EventFilter

    def get_queryset(self):
        return Event.objects.visible_to(self.request.user)

    def get_serializer_class(self):
        return EmitSerializer if self.request.method == "POST" else EventSerializer

    def get_throttles(self):
        return super().get_throttles() if self.request.method == "POST" else []

    @extend_schema(
        summary="List events",
        description="Newest first; filter by type, a payload field (payload=data.notice.id=42) and time.",
    )
    def get(self, request: Request, *args: Any, **kwargs: Any):
        return self.list(request, *args, **kwargs)

    @extend_schema(
        summary="Emit an event",
        request=EmitSerializer,
        responses={202: EventSerializer},
        description="Stores the event and queues its fan-out to every subscribed endpoint of the organisation "
        "(202: delivery is asynchronous; follow it with GET /api/deliveries/?event=<id>). An unknown type or "
        "a payload failing the type's schema or size limit answers 400 with the reason.",
    )
    def post(self, request: Request, *args: Any, **kwargs: Any):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        organisation = data["organisation"] if "organisation" in data else default_organisation(request.user)
        with transaction.atomic():
            event = events.emit(
                data["type"],
                data["payload"],
                organisation=organisation,
                idempotency_key=data.get("idempotency_key") or None,
                endpoints=data.get("endpoints"),
            )
        return Response(EventSerializer(event).data, status=status.HTTP_202_ACCEPTED)
