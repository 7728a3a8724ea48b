"""Per-process, short-lived cache of what ingestion needs to know about metrics and
subscriptions, so a single event costs no catalog queries on the hot path.

Only positive answers are cached (an unknown code is asked again next time), for
INGEST_CACHE_SECONDS. Services that change metrics or charges clear this process's cache; other
processes see changes within the TTL. Worst case inside that window: an event's value is read
from a field name that just changed (only possible before charges use the metric), or a rollup
lacks a just-added pricing-group key (aggregation then falls back to raw events, see
usage.models.UsageRollup).
"""

import time
from dataclasses import dataclass

from django.conf import settings

from customers.models import Subscription
from plans import expressions
from plans.models import BillableMetric


@dataclass(frozen=True)
class MetricInfo:
    code: str
    aggregation_type: str
    field_name: str
    rollup_keys: tuple[str, ...]  # properties kept as rollup dimensions
    expression: expressions.Expression | None = None  # parsed once per cache entry


_metrics: dict[str, tuple[float, MetricInfo]] = {}
_subscriptions: dict[str, float] = {}


def clear() -> None:
    _metrics.clear()
    _subscriptions.clear()


def _fresh(stamp: float) -> bool:
    return time.monotonic() - stamp < settings.INGEST_CACHE_SECONDS


def _rollup_keys(metric: BillableMetric) -> tuple[str, ...]:
    keys = {f.key for f in metric.filters.all()}
    for charge in metric.charges.all():
        if charge.deleted_at is None:
            keys.update(charge.properties.get("pricing_group_keys") or [])
    return tuple(sorted(keys))


def compiled_expression(text: str) -> expressions.Expression | None:
    """The metric's expression, parsed (it was validated when saved)."""
    return expressions.parse(text) if text else None


def metrics_info(codes: set[str]) -> dict[str, MetricInfo]:
    found = {code: _metrics[code][1] for code in codes if code in _metrics}
    found = {code: info for code, info in found.items() if _fresh(_metrics[code][0])}
    missing = codes - set(found)
    if missing:
        rows = (
            BillableMetric.objects.live()
            .filter(code__in=missing)
            .prefetch_related("filters", "charges")
        )
        now = time.monotonic()
        for metric in rows:
            info = MetricInfo(
                metric.code,
                metric.aggregation_type,
                metric.field_name,
                _rollup_keys(metric),
                compiled_expression(metric.expression),
            )
            _metrics[metric.code] = (now, info)
            found[metric.code] = info
    return found


def known_subscriptions(external_ids: set[str]) -> set[str]:
    known = {i for i in external_ids if i in _subscriptions and _fresh(_subscriptions[i])}
    missing = external_ids - known
    if missing:
        rows = Subscription.objects.filter(external_id__in=missing)
        now = time.monotonic()
        for external_id in rows.values_list("external_id", flat=True).distinct():
            _subscriptions[external_id] = now
            known.add(external_id)
    return known
