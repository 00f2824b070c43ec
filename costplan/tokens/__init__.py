"""Token counting: the count_tokens API (lazy SDK import), a disk cache, and a calibrated offline heuristic.

Importing this package never imports the `anthropic` SDK; only an API count does.
"""

from __future__ import annotations

from costplan.cachedir import cache_dir
from costplan.tokens.api import ApiSettings, TokenCountRejected, TokenCountUnavailable
from costplan.tokens.cache import CountCache
from costplan.tokens.counting import (
    DEFAULT_MODEL,
    MissingKeyError,
    TokenCount,
    TokenCountWarning,
    count_addition,
    count_many,
    count_text,
    count_tokens,
)

__all__ = [
    "DEFAULT_MODEL",
    "ApiSettings",
    "CountCache",
    "MissingKeyError",
    "TokenCount",
    "TokenCountRejected",
    "TokenCountUnavailable",
    "TokenCountWarning",
    "cache_dir",
    "count_addition",
    "count_many",
    "count_text",
    "count_tokens",
]
