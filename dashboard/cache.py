"""The read side's shared cache: Redis when the settings name one (every gunicorn worker sees one
load's answers), else in-process. Keys carry the warehouse's data version, so a load or an
annotation makes every worker's old answers unreachable; Redis expires them.
"""

from __future__ import annotations

import logging
from typing import Any

from cachelib import BaseCache, RedisCache, SimpleCache

log = logging.getLogger(__name__)
TIMEOUT_S = 24 * 3600  # answers of an old data version are never asked for again


def make_cache(url: str | None, prefix: str = "carekpi:") -> BaseCache:
    """A cache for `url` (redis://host:port/db) or, without one, an in-process cache."""
    if not url:
        return SimpleCache(threshold=1024, default_timeout=TIMEOUT_S)
    import redis

    client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    return RedisCache(host=client, key_prefix=prefix, default_timeout=TIMEOUT_S)


def get(cache: BaseCache, key: str) -> Any:
    """The cached value or None; an unreachable Redis is a miss (the warehouse still answers)."""
    try:
        return cache.get(key)
    except Exception as exc:  # redis.ConnectionError and friends: degrade, never fail a page
        log.warning("cache unavailable: %s", exc)
        return None


def put(cache: BaseCache, key: str, value: Any) -> None:
    """Store a value; an unreachable Redis is ignored."""
    try:
        cache.set(key, value)
    except Exception as exc:  # as in get()
        log.warning("cache unavailable: %s", exc)
