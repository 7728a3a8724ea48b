"""Lago's published OpenAPI spec, read from ../shared/reference/ (never copied into the
repository), and a check of a response body against one of its component schemas."""

import functools
import re
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

SPEC = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "lago-openapi.yaml"


@functools.cache
def _spec() -> dict:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(SPEC.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 (safe loader)


def schema_errors(schema: str, payload: dict, known_gaps=()) -> list[str]:
    """How `payload` breaks components/schemas/<schema>: "path: message" with list indices
    as "*", less the errors matching one of `known_gaps` (regular expressions)."""
    if not SPEC.exists():
        pytest.skip(f"Lago's OpenAPI spec is not at {SPEC}")
    validator = Draft202012Validator({**_spec(), "$ref": f"#/components/schemas/{schema}"})
    found = []
    for error in validator.iter_errors(payload):
        path = "/".join("*" if isinstance(part, int) else str(part) for part in error.path)
        found.append(f"{path}: {error.message}")
    return [e for e in found if not any(re.fullmatch(gap, e) for gap in known_gaps)]


def strict_schema_errors(schema: str, payload) -> list[str]:
    """As schema_errors, formats (uuid, date-time) checked too, list indices kept as numbers."""
    if not SPEC.exists():
        pytest.skip(f"Lago's OpenAPI spec is not at {SPEC}")
    validator = Draft202012Validator(
        {**_spec(), "$ref": f"#/components/schemas/{schema}"},
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )
    return [
        "/".join(str(part) for part in error.path) + ": " + error.message
        for error in validator.iter_errors(payload)
    ]


def spec_document() -> dict | None:
    """The whole spec (None when ../shared is absent)."""
    return _spec() if SPEC.exists() else None
