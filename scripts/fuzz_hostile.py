"""Hostile values sent to every field of every /api/v1 operation, walking our OpenAPI schema.

For each operation a plausible request is built from the schema (seeded ids where a field names
a resource), then each leaf of its body, each query parameter and each path parameter is
replaced in turn by every value of HOSTILE; object fields are also replaced by an array and by a
1000-deep nesting, and the whole body by an array. Numbers that JSON libraries cannot produce
(1e1000000) and the deep nesting are written into the body as raw text. Used by
scripts/fuzz.py (`make fuzz`).
"""

import json
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field

DEEP = 1000


@dataclass(frozen=True)
class Raw:
    """JSON text written as is into a body: numbers no JSON library emits, 1000-deep nesting."""

    token: str


HOSTILE: list[tuple[str, object]] = [
    ("nul", "a\u0000b"),
    ("long_10000", "x" * 10_000),
    ("empty", ""),
    ("blanks_7", "  7 "),
    ("underscore_1_000", "1_000"),
    ("str_1e1000000", "1e1000000"),
    ("str_1e-20000", "1e-20000"),
    ("str_9e24", "9e24"),
    ("str_1e308", "1e308"),
    ("str_1e400", "1e400"),
    ("num_1e1000000", Raw("1e1000000")),
    ("num_1e-20000", Raw("1e-20000")),
    ("num_9e24", Raw("9e24")),
    ("num_1e308", Raw("1e308")),
    ("num_99999999999999999999", Raw("99999999999999999999")),
    ("str_99999999999999999999", "99999999999999999999"),
    ("negative", -1),
    ("negative_huge", Raw("-99999999999999999999")),
    ("negative_float", -0.5),
    ("bad_datetime", "2026-13-45T99:99:99Z"),
    ("bad_date", "2026-02-30"),
    ("year_1_plus_14", "0001-01-01T00:00:00+14:00"),
    ("minute_75", "2026-01-01T10:75:00Z"),
    ("not_a_uuid", "not-a-uuid"),
    ("array", [1, "a"]),
    ("object", {"a": 1}),
    ("null", None),
    ("true", True),
]

# Query strings and paths carry text only.
HOSTILE_TEXT = [(label, value) for label, value in HOSTILE if isinstance(value, str)] + [
    ("q_99999999999999999999", "99999999999999999999"),
    ("q_negative", "-1"),
    ("q_zero", "0"),
]


def deep_nesting(depth: int = DEEP) -> Raw:
    """{"a": {"a": ... {"leaf": 1}}}, `depth` objects deep (too deep for json.dumps)."""
    return Raw('{"a": ' * (depth - 1) + '{"leaf": 1}' + "}" * (depth - 1))


@dataclass
class Probe:
    """One request of the hostile pass."""

    method: str
    path: str
    label: str  # where/what: "body.customer.name=nul"
    query: dict = field(default_factory=dict)
    body: object = None
    has_body: bool = False
    operation: str = ""  # "POST /api/v1/customers", as in the schema

    def encoded_body(self) -> bytes | None:
        return encode(self.body) if self.has_body else None

    def url_path(self) -> str:
        return self.path + ("?" + urllib.parse.urlencode(self.query) if self.query else "")


def encode(value) -> bytes:
    """JSON with the Raw tokens written in unquoted."""
    raws: list[str] = []

    def default(obj):
        if isinstance(obj, Raw):
            raws.append(obj.token)
            return f"__raw_{len(raws) - 1}__"
        raise TypeError(type(obj))

    text = json.dumps(value, default=default)
    for index, token in enumerate(raws):
        text = text.replace(f'"__raw_{index}__"', token)
    return text.encode()


# --- sample requests from the schema ---------------------------------------------------------


class Sampler:
    """Builds a plausible value for a schema, using seeded ids for fields that name a resource."""

    def __init__(self, components: dict, seeds: dict):
        self.components = components
        self.seeds = seeds

    def resolve(self, schema: dict) -> dict:
        while "$ref" in schema:
            schema = self.components[schema["$ref"].rsplit("/", 1)[-1]]
        if "allOf" in schema and len(schema["allOf"]) == 1:
            return self.resolve(schema["allOf"][0])
        if "oneOf" in schema:
            return self.resolve(schema["oneOf"][0])
        return schema

    def sample(self, schema: dict, name: str = "", depth: int = 0):
        schema = self.resolve(schema)
        if name in self.seeds:
            return self.seeds[name]
        if "enum" in schema:
            return next((v for v in schema["enum"] if v not in ("", None)), None)
        kind = schema.get("type")
        if kind == "object" or "properties" in schema:
            if depth > 4:
                return {}
            props = schema.get("properties") or {}
            if not props:
                return {"key": "value"}
            return {key: self.sample(sub, key, depth + 1) for key, sub in props.items()}
        if kind == "array":
            return [self.sample(schema.get("items", {}), name, depth + 1)]
        return {
            "integer": 1,
            "number": 1.5,
            "boolean": True,
        }.get(kind, _sample_string(schema))


def _sample_string(schema: dict) -> str:
    return {
        "date-time": "2026-01-15T10:00:00Z",
        "date": "2026-01-15",
        "uuid": "00000000-0000-4000-8000-000000000000",
        "uri": "https://example.com/hook",
    }.get(schema.get("format", ""), "fuzz")


# --- probes ----------------------------------------------------------------------------------


def leaves(value, prefix: tuple = ()) -> Iterator[tuple[tuple, object]]:
    """Every path to a leaf (and to every object/array) of a JSON value."""
    if isinstance(value, dict):
        for key, sub in value.items():
            yield (*prefix, key), sub
            yield from leaves(sub, (*prefix, key))
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            yield (*prefix, index), sub
            yield from leaves(sub, (*prefix, index))


def replaced(value, path: tuple, new):
    """A copy of `value` with the element at `path` replaced by `new`."""
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: replaced(value[head], rest, new)}
    copy = list(value)
    copy[head] = replaced(copy[head], rest, new)
    return copy


def operation_probes(method: str, path: str, operation: dict, sampler: Sampler, path_seeds):
    """Every hostile variant of one operation."""
    params = operation.get("parameters", [])
    path_values = {p["name"]: path_seeds(path, p["name"]) for p in params if p["in"] == "path"}
    query = {
        p["name"]: str(sampler.sample(p.get("schema", {}), p["name"]))
        for p in params
        if p["in"] == "query" and p.get("required")
    }
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    body = sampler.sample(content["schema"]) if content else None
    has_body = content is not None

    def make(label, *, path_vals=path_values, q=query, b=body, with_body=has_body):
        url = path
        for name, value in path_vals.items():
            url = url.replace("{" + name + "}", urllib.parse.quote(str(value), safe=""))
        return Probe(method, url, label, dict(q), b, with_body, f"{method} {path}")

    yield make("baseline")
    for name in path_values:
        for label, value in HOSTILE_TEXT:
            yield make(f"path.{name}={label}", path_vals={**path_values, name: value})
    for p in params:
        if p["in"] != "query":
            continue
        for label, value in HOSTILE_TEXT:
            yield make(f"query.{p['name']}={label}", q={**query, p["name"]: value})
    if not has_body:
        return
    yield make("body=array", b=[body])
    yield make("body=deep", b=deep_nesting())
    for where, current in list(leaves(body)):
        dotted = ".".join(str(part) for part in where)
        for label, value in HOSTILE:
            yield make(f"body.{dotted}={label}", b=replaced(body, where, value))
        if isinstance(current, dict):
            yield make(f"body.{dotted}=deep", b=replaced(body, where, deep_nesting()))
            yield make(f"body.{dotted}=deep_key_nul", b=replaced(body, where, {"a\u0000": 1}))


def all_probes(schema: dict, seeds: dict, path_seeds) -> Iterator[Probe]:
    """Every operation's probes, taken in turn from each operation (so a time bound still
    reaches all of them), DELETE operations last (they remove the seeded resources)."""
    sampler = Sampler(schema["components"]["schemas"], seeds)
    operations = [
        (method.upper(), path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]
    for deleting in (False, True):
        streams = [
            operation_probes(method, path, operation, sampler, path_seeds)
            for method, path, operation in operations
            if (method == "DELETE") == deleting
        ]
        yield from _round_robin(streams)


def _round_robin(streams: list) -> Iterator[Probe]:
    while streams:
        for stream in list(streams):
            probe = next(stream, None)
            if probe is None:
                streams.remove(stream)
            else:
                yield probe
