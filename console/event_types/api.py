"""/api/event-types/: the event-type catalog, read by everyone and edited by staff."""

from __future__ import annotations

from typing import Any

from rest_framework import permissions, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView

from events.models import EventType
from hookline.api.base import HooklineAPIMixin
from hookline.api.schema import extend_schema, extend_schema_view
from hookline.api.throttling import WriteRateThrottle

from .serializers import EventTypeReplaceSerializer, EventTypeSerializer


class IsStaffOrReadOnly(permissions.BasePermission):
    """The catalog is shared by all organisations: only staff may change it."""

    message = "Only staff users may change the event-type catalog."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return request.method in permissions.SAFE_METHODS or bool(request.user and request.user.is_staff)


@extend_schema_view(
    list=extend_schema(summary="List the event-type catalog"),
    retrieve=extend_schema(summary="Read one event type"),
    create=extend_schema(summary="Add an event type (staff)"),
    update=extend_schema(
        summary="Replace an event type (staff)",
        request=EventTypeReplaceSerializer,
        responses={200: EventTypeSerializer},
    ),
    partial_update=extend_schema(summary="Edit an event type (staff)"),
    destroy=extend_schema(summary="Remove an event type (staff)"),
)
class EventTypeViewSet(HooklineAPIMixin, viewsets.ModelViewSet[EventType]):
    """The keys ``emit`` accepts, with their descriptions and optional JSON Schemas."""

    queryset = EventType.objects.all()
    serializer_class = EventTypeSerializer
    permission_classes = [permissions.IsAuthenticated, IsStaffOrReadOnly]
    throttle_classes = [WriteRateThrottle]
    lookup_field = "key"
    filterset_fields = ["deprecated", "declared_in_code"]

    def get_serializer_class(self) -> type[BaseSerializer[Any]]:
        # PUT takes the whole type, so an empty body is a 400 rather than a silent no-op.
        if getattr(self, "action", None) == "update" and self.request.method != "PATCH":
            return EventTypeReplaceSerializer
        return EventTypeSerializer

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().update(request, *args, **kwargs)
        response.data = EventTypeSerializer(self.get_object(), context=self.get_serializer_context()).data
        return response
