"""The rate limit counts across every web worker (a shared Redis cache when one is configured)
and every 429 says when to retry."""

import os
from datetime import UTC, datetime

import pytest
import time_machine

from billing_site.settings.base import _caches

pytestmark = pytest.mark.django_db
REDIS_URL = os.environ.get("CELERY_BROKER_URL", "")
needs_redis = pytest.mark.skipif(
    not REDIS_URL.startswith("redis"), reason="needs a Redis broker (CELERY_BROKER_URL=redis://…)"
)


def test_a_redis_broker_holds_the_rate_limit_counters_when_no_cache_is_configured():
    caches = _caches("", "redis://127.0.0.1:6379/3")
    assert caches["default"]["BACKEND"].endswith("LocMemCache")
    assert caches["ratelimit"] == {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/3",
        "KEY_PREFIX": "billing",
    }


def test_a_configured_cache_url_is_used_for_everything():
    caches = _caches("redis://cache:6379/0", "redis://broker:6379/1")
    assert set(caches) == {"default"}
    assert caches["default"]["LOCATION"] == "redis://cache:6379/0"


def test_a_filesystem_broker_leaves_the_local_cache():
    assert set(_caches("", "filesystem://")) == {"default"}


def test_a_429_says_when_the_window_ends(api, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 2
    with time_machine.travel(datetime(2031, 5, 4, 12, 0, 45, tzinfo=UTC), tick=False):
        codes = [api.get("/api/v1/customers").status_code for _ in range(3)]
        limited = api.get("/api/v1/customers")
    assert codes == [200, 200, 429]
    assert limited.json() == {
        "status": 429,
        "error": "Too Many Requests",
        "code": "too_many_requests",
    }
    assert limited["Retry-After"] == "15"
    assert limited["x-ratelimit-reset"] == "15"


@needs_redis
def test_two_workers_with_their_own_redis_clients_share_one_count(api, settings):
    """Each alias is a separate client and connection pool, as in two worker processes."""
    shared = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    settings.CACHES = {**settings.CACHES, "worker_a": shared, "worker_b": dict(shared)}
    settings.API_RATE_LIMIT_PER_MINUTE = 3
    codes = []
    with time_machine.travel(datetime(2031, 5, 4, 12, 0, 10, tzinfo=UTC), tick=False):
        for worker in ("worker_a", "worker_b", "worker_a", "worker_b"):
            settings.RATE_LIMIT_CACHE = worker
            codes.append(api.get("/api/v1/customers").status_code)
    assert codes == [200, 200, 200, 429]
