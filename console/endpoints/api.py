"""/api/webhooks/: endpoints of your organisations, and their actions (test, rotate secret or body token, recover,
…)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from deliveries import endpoint_actions as actions
from hookline.api.base import HooklineAPIMixin
from hookline.api.errors import from_django
from hookline.api.schema import error, extend_schema, extend_schema_view
from hooks.models import Webhook

from .filters import WebhookFilter
from .serializers import (
    DeleteOptionsSerializer,
    RecoveredSerializer,
    RecoverSerializer,
    ResumedSerializer,
    RotateBodyTokenSerializer,
    RotatedBodyTokenSerializer,
    RotatedSecretSerializer,
    RotateSecretSerializer,
    SkippedSerializer,
    TestResultSerializer,
    WebhookCreatedSerializer,
    WebhookSerializer,
)

NOT_RECEIVING = error("The endpoint is invalid or deactivated: enable it (or send a test) first.")


@extend_schema_view(
    list=extend_schema(
        summary="List endpoints", description="Deactivated endpoints are left out unless state=deactivated."
    ),
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
        return actions.for_listing(
            Webhook.objects.visible_to(self.request.user).select_related("organisation", "created_by", "updated_by")
        )

    def create(self, request: Request, *args: Any, **kwargs: Any):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        webhook = serializer.save()
        created = WebhookCreatedSerializer(webhook, context=serializer.context)
        return Response(created.data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, webhook: Webhook) -> None:
        options = DeleteOptionsSerializer(data=self.request.query_params)
        options.is_valid(raise_exception=True)
        actions.delete(webhook, force=options.validated_data["force"])

    @extend_schema(
        summary="Send a test event now",
        description="POSTs a webhook.test event to the endpoint at once (not queued) and sets its state from "
        "the answer: valid on 2xx, invalid otherwise. The answer holds the attempt's request and response.",
        request=None,
        responses={200: TestResultSerializer},
    )
    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk=None):
        webhook = self.get_object()
        attempt = actions.send_test(webhook, user=request.user)
        result = {
            "succeeded": attempt.succeeded,
            "state": webhook.state,
            "delivery": attempt.delivery_id,
            "attempt": attempt,
        }
        return Response(TestResultSerializer(result).data)

    @extend_schema(
        summary="Rotate the secret",
        description="Issues a new secret (shown this once). The old one keeps signing alongside it for "
        "HOOKLINE SECRET_ROTATION_GRACE seconds, so receivers can switch without losing events. "
        'A body {"secret": "whsec_…"} imports an existing secret instead.',
        request=RotateSecretSerializer,
        responses={200: RotatedSecretSerializer},
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, pk=None):
        return self._rotate(
            request,
            "secret",
            RotateSecretSerializer,
            RotatedSecretSerializer,
            lambda webhook, user, value: actions.rotate_secret(webhook, user=user, secret=value),
        )

    @extend_schema(
        summary="Rotate the body token",
        description="Issues a new body token (shown this once), the value a body template places as {{secret.token}} "
        "(store-notice's token). Bodies carry it at once; POST /api/tokens/validate/ still accepts the previous one "
        "for "
        'HOOKLINE SECRET_ROTATION_GRACE seconds. A body {"body_token": "…"} imports a token instead.',
        request=RotateBodyTokenSerializer,
        responses={200: RotatedBodyTokenSerializer},
    )
    @action(detail=True, methods=["post"], url_path="rotate-body-token")
    def rotate_body_token(self, request: Request, pk=None):
        return self._rotate(
            request,
            "body_token",
            RotateBodyTokenSerializer,
            RotatedBodyTokenSerializer,
            lambda webhook, user, value: actions.rotate_body_token(webhook, user=user, token=value),
        )

    def _rotate(self, request: Request, credential: str, asked, answer, rotate) -> Response:
        """Both rotations: an optional value to import, the new one shown once, and when the previous one expires."""
        webhook = self.get_object()
        body = asked(data=request.data or {})
        body.is_valid(raise_exception=True)
        try:
            value = rotate(webhook, request.user, body.validated_data.get(credential, ""))
        except DjangoValidationError as exc:
            raise from_django(exc) from None
        expires = f"previous_{credential}_expires_at"
        return Response(answer({credential: value, expires: getattr(webhook, expires)}).data)

    @extend_schema(
        summary="Re-queue failed deliveries",
        request=RecoverSerializer,
        responses={202: RecoveredSerializer, 409: NOT_RECEIVING},
    )
    @action(detail=True, methods=["post"])
    def recover(self, request: Request, pk=None):
        webhook = self.get_object()
        body = RecoverSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        count = actions.recover(webhook, body.validated_data["since"])
        return Response(RecoveredSerializer({"requeued": count}).data, status=status.HTTP_202_ACCEPTED)

    # --- delivery control (deliveries/control.py, through deliveries.endpoint_actions) ---------
    @extend_schema(
        summary="Pause: keep new deliveries as held",
        description=(
            "Deliveries are recorded as held (not sent, not failed) until resume; unlike disabling, nothing is lost."
        ),
        request=None,
        responses={200: WebhookSerializer},
    )
    @action(detail=True, methods=["post"])
    def pause(self, request: Request, pk=None):
        webhook = self.get_object()
        actions.pause(webhook)
        return Response(self.get_serializer(webhook).data)

    @extend_schema(
        summary="Resume: send the held deliveries, oldest first, at the rate limit",
        request=None,
        responses={200: ResumedSerializer},
    )
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk=None):
        return Response(ResumedSerializer({"released": actions.resume(self.get_object())}).data)

    @extend_schema(
        summary="Close the circuit breaker now",
        description="Deliveries that waited for the breaker are due at once.",
        request=None,
        responses={200: WebhookSerializer},
    )
    @action(detail=True, methods=["post"], url_path="reset-breaker")
    def reset_breaker(self, request: Request, pk=None):
        webhook = self.get_object()
        actions.reset_breaker(webhook)
        webhook.refresh_from_db()
        return Response(self.get_serializer(webhook).data)

    @extend_schema(
        summary="Skip the head of line (FIFO endpoints)",
        description="Cancels the delivery that holds the others back, so that the next one goes.",
        request=None,
        responses={200: SkippedSerializer},
    )
    @action(detail=True, methods=["post"], url_path="skip-head")
    def skip_head(self, request: Request, pk=None):
        head = actions.skip_head(self.get_object())
        return Response(SkippedSerializer({"skipped": head.pk if head else None}).data)
