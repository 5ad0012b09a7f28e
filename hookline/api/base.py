"""What every Hookline API view shares: login required, JSON in and out, one error shape, paging with a total count,
write throttling."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.metadata import SimpleMetadata
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from . import gate
from .errors import handle_exception
from .parsers import HooklineJSONParser
from .renderers import HooklineJSONRenderer
from .schema import HooklineAutoSchema
from .throttling import WriteRateThrottle

# Token first: its WWW-Authenticate header is what makes an anonymous request a 401 rather than a 403.
AUTHENTICATION_CLASSES = [TokenAuthentication, SessionAuthentication]


class HooklinePagination(PageNumberPagination):
    """``{"count", "next", "previous", "results"}``; ``?page=2&page_size=100``."""

    page_size = 50
    page_size_query_param = "page_size"
    page_query_param = "page"
    max_page_size = 500


if TYPE_CHECKING:  # what the mixin is mixed into: a generic view (a base at type-check time only)
    from rest_framework.generics import GenericAPIView

    _View = GenericAPIView[Any]
else:
    _View = object


class HooklineAPIMixin(_View):
    """Mixed into every Hookline view: each policy DRF would otherwise take from the host's REST_FRAMEWORK
    defaults is set here, so the API behaves as documented whatever the embedding site configures."""

    authentication_classes = AUTHENTICATION_CLASSES
    permission_classes = [IsAuthenticated]
    parser_classes = [HooklineJSONParser]
    renderer_classes = [HooklineJSONRenderer, BrowsableAPIRenderer]
    content_negotiation_class = DefaultContentNegotiation
    metadata_class = SimpleMetadata  # type: ignore[assignment]  # DRF takes a class here; the stubs say an instance
    versioning_class = None
    throttle_classes = [WriteRateThrottle]
    pagination_class = HooklinePagination
    filter_backends = [DjangoFilterBackend]
    schema = HooklineAutoSchema()
    # Any path segment reaches the view, so that /webhooks/0.5/ is a JSON 404 rather than Django's HTML page.
    lookup_value_regex = r"[^/]+"

    def get_exception_handler(self) -> Callable[[Exception, dict[str, Any]], Response | None]:
        return handle_exception

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        # The read surfaces pass the input gate too: path keys, filters, search and ordering reach the ORM.
        gate.check_request_arguments(request.query_params, kwargs)

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        # Filters narrow lists; an object's own URL finds it whatever its state or the query string.
        if getattr(self, "action", None) not in (None, "list"):
            return queryset
        return super().filter_queryset(queryset)
