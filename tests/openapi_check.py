"""Check a response body against one of Lago's published OpenAPI schemas (tests/lago_spec.py),
sorted, less the known gaps of serializers owned elsewhere. Kept simple on purpose: the global
contract checker (tests/compat/contract.py) covers every route; this is for the routes' own
tests."""

from tests.lago_spec import schema_errors


def spec_errors(schema: str, payload, gaps=()) -> list[str]:
    return sorted(schema_errors(schema, payload, gaps))
