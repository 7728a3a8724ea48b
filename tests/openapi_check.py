"""Check a response body against one of Lago's published OpenAPI schemas (refs resolved).

The spec is read from ../shared/reference/ (next to the repository, never copied into it); a
test using `spec_errors` is skipped when it is absent. Kept simple on purpose: a global
contract checker covers every route; this is for the routes' own tests."""

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


def spec_errors(schema: str, payload, gaps=()) -> list[str]:
    """How `payload` breaks components/schemas/<schema>: each error as "path: message" (list
    indices as *), less those matching one of the `gaps` regular expressions (known gaps of
    serializers owned elsewhere)."""
    if not SPEC.exists():
        pytest.skip(f"Lago's OpenAPI spec is not at {SPEC}")
    validator = Draft202012Validator({**_spec(), "$ref": f"#/components/schemas/{schema}"})
    found = []
    for error in validator.iter_errors(payload):
        path = "/".join("*" if isinstance(part, int) else str(part) for part in error.path)
        found.append(f"{path}: {error.message}")
    return sorted(e for e in found if not any(re.fullmatch(gap, e) for gap in gaps))
