"""The charge models, listed once: what each needs and who prices and validates it.

Before this registry the list was written four times (model choices, property validation, the
pricing dispatch, the admin form) and the rules about aggregations, pay in advance and proration
were spread over the plan services and the aggregation SQL. Now a new charge model is one entry
in SPECS below plus its pricer in plans/pricing.py (`@pricer("key")`) and, unless it is a plain
tiered model, its property validator in plans/charge_properties.py (`@validator("key")`).

Pure on purpose, like pricing.py and charge_properties.py which both use it: stdlib only, no
Django. The model field's choices (plans.models.ChargeModel) are built from SPECS, in order.
"""

from collections.abc import Callable
from dataclasses import dataclass

# Aggregation types by their stored value, from their own pure registry.
from plans.aggregation_types import ALL_AGGREGATIONS, LATEST, SUM


@dataclass(frozen=True)
class Ranges:
    """A tiered model's ranges: where they are in `properties`, the price key of each tier and
    the reason code of a bad price."""

    key: str
    price_key: str
    price_code: str


@dataclass(frozen=True)
class ChargeModelSpec:
    """One charge model. `scalar_fields` are the properties the admin form edits one field each;
    `ranges` the tiers it edits as text (validated by the shared range rules). `aggregations`
    are the metric aggregations it can price. `prorated` says whether a prorated variant exists
    (a recurring metric's units by days present), `prorated_in_advance` whether that still holds
    when paid in advance, `stacks_positions` whether proration needs units in arrival order."""

    key: str
    label: str
    scalar_fields: tuple[str, ...] = ()
    ranges: Ranges | None = None
    aggregations: frozenset[str] = ALL_AGGREGATIONS
    pay_in_advance: bool = True
    prorated: bool = False
    prorated_in_advance: bool = False
    stacks_positions: bool = False


PERCENTAGE_FIELDS = (
    "rate",
    "fixed_amount",
    "free_units_per_events",
    "free_units_per_total_aggregation",
    "per_transaction_min_amount",
    "per_transaction_max_amount",
)

SPECS: tuple[ChargeModelSpec, ...] = (
    ChargeModelSpec("standard", "standard", ("amount",), prorated=True, prorated_in_advance=True),
    ChargeModelSpec(
        "graduated",
        "graduated",
        ranges=Ranges("graduated_ranges", "per_unit_amount", "invalid_amount"),
        prorated=True,
        stacks_positions=True,
    ),
    ChargeModelSpec(
        "volume",
        "volume",
        ranges=Ranges("volume_ranges", "per_unit_amount", "invalid_amount"),
        pay_in_advance=False,
        prorated=True,
    ),
    ChargeModelSpec("package", "package", ("amount", "package_size", "free_units")),
    ChargeModelSpec(
        "percentage", "percentage", PERCENTAGE_FIELDS, aggregations=ALL_AGGREGATIONS - {LATEST}
    ),
    ChargeModelSpec(
        "graduated_percentage",
        "graduated percentage",
        ranges=Ranges("graduated_percentage_ranges", "rate", "invalid_rate"),
    ),
    ChargeModelSpec("dynamic", "dynamic", aggregations=frozenset({SUM})),
)
REGISTRY: dict[str, ChargeModelSpec] = {spec.key: spec for spec in SPECS}
KEYS: tuple[str, ...] = tuple(spec.key for spec in SPECS)

_pricers: dict[str, Callable] = {}
_prorated_pricers: dict[str, Callable] = {}
_validators: dict[str, Callable] = {}


def _known(key: str) -> ChargeModelSpec:
    if key not in REGISTRY:
        raise LookupError(f"charge model {key!r} is not in plans.charge_models.SPECS")
    return REGISTRY[key]


def pricer(key: str, *, prorated: bool = False) -> Callable[[Callable], Callable]:
    """Decorator: `fn(properties, usage) -> PricingResult` prices the model (or its prorated
    variant); the function itself is returned unchanged."""

    def register(fn: Callable) -> Callable:
        _known(key)
        (_prorated_pricers if prorated else _pricers)[key] = fn
        return fn

    return register


def validator(key: str) -> Callable[[Callable], Callable]:
    """Decorator: `fn(source, out, errors)` validates and normalises the model's properties."""

    def register(fn: Callable) -> Callable:
        _known(key)
        _validators[key] = fn
        return fn

    return register


def pricer_for(key: str, *, prorated: bool = False) -> Callable | None:
    """The registered pricer (or prorated pricer) of a model; None when there is none."""
    return (_prorated_pricers if prorated else _pricers).get(key)


def validator_for(key: str) -> Callable | None:
    """The registered property validator of a model; None for an unknown model."""
    return _validators.get(key)


def missing_parts() -> list[str]:
    """What SPECS promises and nobody registered (empty once pricing and charge_properties are
    imported): the registry's completeness check, run by the tests."""
    missing = []
    for spec in SPECS:
        if spec.key not in _pricers:
            missing.append(f"{spec.key}: pricer")
        if spec.prorated and spec.key not in _prorated_pricers:
            missing.append(f"{spec.key}: prorated pricer")
        if spec.key not in _validators:
            missing.append(f"{spec.key}: validator")
    return missing
