"""The event-type catalog (read by everyone, edited by staff) and POST /api/events/ (emit over HTTP)."""
from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import permissions, status, viewsets
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

import events
from events.models import EventType

from hookline.api.base import HooklineAPIMixin
from .serializers import EmitSerializer, EventSerializer, EventTypeSerializer
from hookline.api.tenancy import default_organisation
from hookline.api.throttling import EmitRateThrottle, WriteRateThrottle


class IsStaffOrReadOnly(permissions.BasePermission):
    """The catalog is shared by all organisations: only staff may change it."""

    message = "Only staff users may change the event-type catalog."

    def has_permission(self, request, view) -> bool:
        return request.method in permissions.SAFE_METHODS or bool(request.user and request.user.is_staff)


@extend_schema_view(
    list=extend_schema(summary="List the event-type catalog"),
    retrieve=extend_schema(summary="Read one event type"),
    create=extend_schema(summary="Add an event type (staff)"),
    update=extend_schema(summary="Edit an event type (staff)"),
    partial_update=extend_schema(summary="Edit an event type (staff)"),
    destroy=extend_schema(summary="Remove an event type (staff)"),
)
class EventTypeViewSet(HooklineAPIMixin, viewsets.ModelViewSet):
    """The keys ``emit`` accepts, with their descriptions and optional JSON Schemas."""

    queryset = EventType.objects.all()
    serializer_class = EventTypeSerializer
    permission_classes = [permissions.IsAuthenticated, IsStaffOrReadOnly]
    throttle_classes = [WriteRateThrottle]
    lookup_field = "key"
    filterset_fields = ["deprecated", "declared_in_code"]


class EmitView(HooklineAPIMixin, GenericAPIView):
    """Emit an event over HTTP, for producers that are not Python: the same validation as ``events.emit``."""

    serializer_class = EmitSerializer
    throttle_classes = [EmitRateThrottle]

    @extend_schema(
        summary="Emit an event",
        request=EmitSerializer,
        responses={202: EventSerializer},
        description="Stores the event and queues its fan-out to every subscribed endpoint of the organisation "
        "(202: delivery is asynchronous; follow it with GET /api/deliveries/?event=<id>). An unknown type or "
        "a payload failing the type's schema or size limit answers 400 with the reason.",
    )
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        organisation = data["organisation"] if "organisation" in data else default_organisation(request.user)
        with transaction.atomic():
            event = events.emit(
                data["type"], data["payload"], organisation=organisation,
                idempotency_key=data.get("idempotency_key") or None,
            )
        return Response(EventSerializer(event).data, status=status.HTTP_202_ACCEPTED)
