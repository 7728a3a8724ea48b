"""Per-API-key rate limit (fixed one-minute windows in the cache) with x-ratelimit-* headers."""

import time

from django.conf import settings
from django.core.cache import caches
from rest_framework.exceptions import Throttled
from rest_framework.throttling import BaseThrottle


class ApiKeyRateThrottle(BaseThrottle):
    """API_RATE_LIMIT_PER_MINUTE requests per key and minute (0 = no limit)."""

    def allow_request(self, request, view) -> bool:
        limit = settings.API_RATE_LIMIT_PER_MINUTE
        key = getattr(request, "auth", None)
        if not limit or key is None:
            return True
        now = int(time.time())
        window = now - now % 60
        cache_key = f"ratelimit:{key.pk}:{key.prefix}:{window}"  # prefix: unique across DB resets
        cache = caches[settings.RATE_LIMIT_CACHE]
        cache.add(cache_key, 0, timeout=120)
        try:
            used = cache.incr(cache_key)
        except ValueError:  # evicted between add and incr
            cache.set(cache_key, 1, timeout=120)
            used = 1
        headers = {
            "x-ratelimit-limit": str(limit),
            "x-ratelimit-remaining": str(max(0, limit - used)),
            "x-ratelimit-reset": str(window + 60 - now),
        }
        request.ratelimit_headers = headers
        if used > limit:
            exc = Throttled(wait=window + 60 - now)
            exc.ratelimit_headers = headers
            raise exc
        return True
