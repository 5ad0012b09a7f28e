"""JSON every supported database can store: PostgreSQL's jsonb refuses the NUL character (\\u0000)."""
from __future__ import annotations

import re

# A \u0000 escape, not a literal backslash followed by "u0000" (that one is preceded by an odd number of \).
_NUL_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


def has_nul(serialised: str) -> bool:
    """Does this output of json.dumps (ensure_ascii, the default) hold a NUL character in a key or a string?"""
    return "\\u0000" in serialised and _NUL_ESCAPE.search(serialised) is not None
