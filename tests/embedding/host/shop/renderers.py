"""The shop's own API conventions: camelCase keys and its own error shape."""

import re

from rest_framework.renderers import JSONRenderer
from rest_framework.views import exception_handler as drf_exception_handler


def _camel(data):
    if isinstance(data, dict):
        return {re.sub(r"_([a-z])", lambda m: m.group(1).upper(), str(k)): _camel(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_camel(item) for item in data]
    return data


class CamelCaseJSONRenderer(JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        return super().render(_camel(data), accepted_media_type, renderer_context)


def exception_handler(exc, context):
    response = drf_exception_handler(exc, context)
    if response is not None:
        response.data = {"shop_error": response.data}
    return response
