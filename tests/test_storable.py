"""events.storable: NUL characters (which PostgreSQL's jsonb refuses) are found in serialised JSON, and only they."""
import json

import pytest

from events.storable import has_nul


@pytest.mark.parametrize(
    "value, found",
    [("a\x00b", True), ({"key\x00": 1}, True), (["\\\x00"], True), ("\\u0000", False), ("\\\\u0000", False), ("plain", False)],
)
def test_has_nul(value, found):
    # when / then
    assert has_nul(json.dumps(value)) is found
