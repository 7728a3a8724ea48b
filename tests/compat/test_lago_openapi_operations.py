"""Every operation of Lago's pinned OpenAPI spec is routed here, or listed as not yet
implemented in docs/api.md (fenced block `operations-not-implemented`, one `METHOD /path` a
line). The list only shrinks: an operation that now exists must leave it.

Decided by the URLconf (django.urls.resolve and the viewset's method → action map), not by
HTTP answers: a 404 is also how an existing operation says "no such customer"."""

import re

import pytest
from django.urls import Resolver404, resolve

from tests.compat import contract

FENCE = "operations-not-implemented"
PLACEHOLDER = "00000000-0000-4000-8000-000000000000"  # a valid id for every path converter


def spec_operations() -> list[str]:
    document = contract.spec()
    if document is None:
        pytest.skip(f"Lago's OpenAPI spec is not at {contract.SPEC}")
    return [
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method in item
        if method in contract.METHODS
    ]


def routed(operation: str) -> bool:
    """Whether the URLconf sends `METHOD /path` to a view that handles that method."""
    method, path = operation.split(" ", 1)
    url = contract.PREFIX + re.sub(r"\{[^}]+\}", PLACEHOLDER, path)
    try:
        match = resolve(url)
    except Resolver404:
        return False
    actions = getattr(match.func, "actions", None)
    if actions is not None:  # a DRF viewset route
        return method.lower() in actions
    view_class = getattr(match.func, "cls", None) or getattr(match.func, "view_class", None)
    return view_class is None or hasattr(view_class, method.lower())


def not_implemented_list(text: str | None = None) -> list[str]:
    text = contract.API_DOC.read_text(encoding="utf-8") if text is None else text
    lines = []
    for block in re.findall(rf"```{FENCE}\n(.*?)```", text, re.S):
        lines += [" ".join(raw.split()) for raw in block.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def test_every_spec_operation_is_routed_or_listed_as_not_implemented():
    operations = spec_operations()
    missing = {op for op in operations if not routed(op)}
    listed = set(not_implemented_list())
    add = sorted(missing - listed)
    remove = sorted(listed & (set(operations) - missing))
    unknown = sorted(listed - set(operations))
    report = []
    if add:
        report += ["Not routed: add to the `operations-not-implemented` block of docs/api.md:"]
        report += [f"  {op}" for op in add]
    if remove:
        report += ["Now routed: remove from the `operations-not-implemented` block:"]
        report += [f"  {op}" for op in remove]
    if unknown:
        report += ["Not an operation of the spec: remove from the block:"]
        report += [f"  {op}" for op in unknown]
    assert not report, "\n".join(report)


def test_the_probe_tells_routed_from_missing():
    assert routed("GET /customers/{external_customer_id}")
    assert routed("POST /events/batch")
    assert not routed("PATCH /customers/{external_customer_id}")  # route exists, method not
    assert not routed("GET /no_such_resource")
