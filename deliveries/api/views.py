"""Endpoint, delivery-log and token-validation views: thin edges over hooks.services and deliveries.services."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from deliveries import services as deliveries
from deliveries.models import Delivery
from deliveries.tokens import validate_token
from hookline.api.base import HooklineAPIMixin
from hookline.api.schema import error
from hooks import services as endpoints
from hooks.api.filters import WebhookFilter
from hooks.api.serializers import RotatedSecretSerializer, WebhookCreatedSerializer, WebhookSerializer
from hooks.models import Webhook

from .filters import DeliveryFilter
from .serializers import (
    DeleteOptionsSerializer, DeliveryDetailSerializer, DeliverySerializer, RecoveredSerializer, RecoverSerializer,
    TestResultSerializer, TokenCheckSerializer, TokenValidationSerializer,
)

NOT_RECEIVING = error("The endpoint is invalid or deactivated: enable it (or send a test) first.")


@extend_schema_view(
    list=extend_schema(summary="List endpoints", description="Deactivated endpoints are left out unless state=deactivated."),
    create=extend_schema(summary="Create an endpoint", responses={201: WebhookCreatedSerializer}),
    retrieve=extend_schema(summary="Read an endpoint"),
    update=extend_schema(summary="Replace an endpoint's settings"),
    partial_update=extend_schema(summary="Edit an endpoint"),
    destroy=extend_schema(
        summary="Delete an endpoint and its delivery log",
        parameters=[DeleteOptionsSerializer],
        responses={204: None, 409: error("force=false and the endpoint still has pending deliveries.")},
    ),
)
class WebhookViewSet(HooklineAPIMixin, viewsets.ModelViewSet):
    """Webhook endpoints of your organisations."""

    serializer_class = WebhookSerializer
    filterset_class = WebhookFilter

    def get_queryset(self):
        return Webhook.objects.visible_to(self.request.user).select_related("organisation", "created_by", "updated_by")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        webhook = serializer.save()
        created = WebhookCreatedSerializer(webhook, context=serializer.context)
        return Response(created.data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, webhook: Webhook) -> None:
        options = DeleteOptionsSerializer(data=self.request.query_params)
        options.is_valid(raise_exception=True)
        deliveries.delete_webhook(webhook, force=options.validated_data["force"])

    @extend_schema(
        summary="Send a test event now",
        description="POSTs a webhook.test event to the endpoint at once (not queued) and sets its state from "
        "the answer: valid on 2xx, invalid otherwise. The answer holds the attempt's request and response.",
        request=None,
        responses={200: TestResultSerializer},
    )
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        webhook = self.get_object()
        attempt = deliveries.send_test(webhook, user=request.user)
        result = {"succeeded": attempt.succeeded, "state": webhook.state, "delivery": attempt.delivery_id, "attempt": attempt}
        return Response(TestResultSerializer(result).data)

    @extend_schema(
        summary="Rotate the secret",
        description="Issues a new secret (shown this once). The old one keeps signing alongside it for "
        "HOOKLINE SECRET_ROTATION_GRACE seconds, so receivers can switch without losing events.",
        request=None,
        responses={200: RotatedSecretSerializer},
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        webhook = self.get_object()
        secret = endpoints.rotate_secret(webhook, user=request.user)
        answer = {"secret": secret, "previous_secret_expires_at": webhook.previous_secret_expires_at}
        return Response(RotatedSecretSerializer(answer).data)

    @extend_schema(
        summary="Re-queue failed deliveries",
        request=RecoverSerializer,
        responses={202: RecoveredSerializer, 409: NOT_RECEIVING},
    )
    @action(detail=True, methods=["post"])
    def recover(self, request, pk=None):
        webhook = self.get_object()
        body = RecoverSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        count = deliveries.recover(webhook, body.validated_data["since"])
        return Response(RecoveredSerializer({"requeued": count}).data, status=status.HTTP_202_ACCEPTED)


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
    def redeliver(self, request, pk=None):
        delivery = self.get_object()
        deliveries.redeliver(delivery)
        delivery.refresh_from_db()
        return Response(self.get_serializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class TokenValidationView(HooklineAPIMixin, GenericAPIView):
    """For receivers that cannot compute HMACs: did Hookline send this webhook-id with this signature?"""

    serializer_class = TokenValidationSerializer

    @extend_schema(summary="Check a received signature", responses={200: TokenCheckSerializer})
    def post(self, request, *args, **kwargs):
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
