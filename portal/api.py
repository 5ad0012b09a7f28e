"""POST /api/portal-sessions/: a magic link to the portal for one of the caller's organisations."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import NoReverseMatch, reverse
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from console.api.tenancy import OrganisationField, default_organisation
from hookline.api.base import HooklineAPIMixin
from hookline.api.schema import extend_schema
from hooks.services import validate_event_types

from . import links
from .conf import portal_settings

MAX_TTL = 7 * 24 * 3600


class PortalSessionRequestSerializer(serializers.Serializer):
    organisation = OrganisationField()
    read_only = serializers.BooleanField(default=False, help_text="The customer may look but not change anything.")
    event_types = serializers.ListField(
        child=serializers.CharField(max_length=200),
        required=False,
        allow_null=True,
        help_text="Limit the catalog the customer picks from to these patterns.",
    )
    ttl = serializers.IntegerField(
        min_value=10,
        max_value=MAX_TTL,
        required=False,
        help_text="Seconds the link stays valid (default: HOOKLINE_PORTAL LINK_TTL).",
    )

    def validate_event_types(self, value):
        if not value:
            return None
        try:
            return validate_event_types(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None


class PortalSessionSerializer(serializers.Serializer):
    url = serializers.URLField(help_text="Open once, before expires_at; it starts a portal session.")
    expires_at = serializers.DateTimeField()


class PortalSessionView(HooklineAPIMixin, APIView):
    """Magic links to the customer portal."""

    @extend_schema(
        summary="Create a portal link", request=PortalSessionRequestSerializer, responses={201: PortalSessionSerializer}
    )
    def post(self, request: Request):
        body = PortalSessionRequestSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        data = body.validated_data
        organisation = data.get("organisation") or default_organisation(request.user)
        if organisation is None:
            raise serializers.ValidationError({"organisation": "Required: name the organisation the link is for."})
        # The link lets its holder do what the caller could do with endpoints: ask for that permission.
        needed = ["hooks.change_webhook"] + (["hooks.view_webhook"] if data["read_only"] else [])
        if not any(request.user.has_perm(permission) for permission in needed):
            raise PermissionDenied(f"Minting this link needs the {' or '.join(needed)} permission.")
        try:  # before minting, so that a site without the portal's URLs keeps no link it cannot open
            reverse("portal:open", args=["token"])
        except NoReverseMatch:
            raise PermissionDenied(
                'The portal\'s URLs are not mounted on this site (path("webhooks/", include("portal.urls"))).'
            ) from None
        link = links.mint(
            organisation,
            read_only=data["read_only"],
            event_types=data.get("event_types"),
            ttl=data.get("ttl", portal_settings.LINK_TTL),
            user=request.user,
        )
        url = request.build_absolute_uri(link.path)
        return Response(
            PortalSessionSerializer({"url": url, "expires_at": link.expires_at}).data, status=status.HTTP_201_CREATED
        )
