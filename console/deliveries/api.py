"""/api/deliveries/: the delivery log of your organisations' endpoints, each attempt's request and response,
redeliver."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from deliveries import services as deliveries
from deliveries.models import Delivery
from hookline.api.base import HooklineAPIMixin
from hookline.api.schema import extend_schema, extend_schema_view

from ..endpoints.api import NOT_RECEIVING
from .filters import DeliveryFilter
from .serializers import DeliveryDetailSerializer, DeliverySerializer


@extend_schema_view(
    list=extend_schema(
        summary="List deliveries",
        description="Newest first; each delivery's attempts are in its detail.",
        parameters=[OpenApiParameter("webhook", int, description="Only this endpoint's deliveries (its id).")],
    ),
    retrieve=extend_schema(summary="Inspect a delivery: every attempt's request and response"),
)
class DeliveryViewSet(HooklineAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The delivery log of your organisations' endpoints."""

    filterset_class = DeliveryFilter

    def get_queryset(self):
        deliveries_ = Delivery.objects.visible_to(self.request.user).select_related("event")
        if self.action == "retrieve":
            deliveries_ = deliveries_.prefetch_related("attempt_log")
        return deliveries_

    def get_serializer_class(self):
        return DeliveryDetailSerializer if self.action in ("retrieve", "redeliver") else DeliverySerializer

    @extend_schema(
        summary="Send a delivery again",
        description="Queues the delivery again with the same webhook-id and a fresh retry budget "
        "(a delivery that is still pending is left as it is).",
        request=None,
        responses={202: DeliveryDetailSerializer, 409: NOT_RECEIVING},
    )
    @action(detail=True, methods=["post"])
    def redeliver(self, request: Request, pk=None):
        delivery = self.get_object()
        deliveries.redeliver(delivery)
        delivery.refresh_from_db()
        return Response(self.get_serializer(delivery).data, status=status.HTTP_202_ACCEPTED)
