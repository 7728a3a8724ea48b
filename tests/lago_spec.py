"""Lago's OpenAPI spec, read from ../shared/reference/ (next to the repository, never copied
into it), and a validator of a response against one of its component schemas."""

import functools
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

SPEC = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "lago-openapi.yaml"


@functools.cache
def _spec() -> dict:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(SPEC.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 (safe loader)


def schema_errors(schema: str, payload) -> list[str]:
    """How `payload` breaks components/schemas/<schema>: "path: message" per error (formats
    such as uuid and date-time checked too)."""
    if not SPEC.exists():
        pytest.skip(f"Lago's OpenAPI spec is not at {SPEC}")
    spec = _spec()
    validator = Draft202012Validator(
        {**spec, "$ref": f"#/components/schemas/{schema}"},
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )
    return [
        "/".join(str(part) for part in error.path) + ": " + error.message
        for error in validator.iter_errors(payload)
    ]
