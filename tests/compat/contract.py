"""Contract check: every /api/v1 response any test produces is validated against the response
schema of Lago's pinned OpenAPI spec for its operation (path template + method) and status.

A pytest plugin (registered by tests/conftest.py). It wraps Django's
`BaseHandler.get_response`, so the DRF `APIClient`, Django's `Client` and the live server the
official lago-python-client talks to are all seen. Each mismatch is normalised to one line,

    METHOD /spec/path STATUS $.json.path[*].key: message

and collected; at the end of the session the run fails if a line is not matched by the
allow-list kept in docs/api.md (fenced block `contract-allowlist` under "Known deviations from
Lago's OpenAPI"; `*` is a wildcard, ` | ` starts the reason). A response whose operation or
status the spec does not define is reported the same way ("operation not in spec", "status not
in spec"). The spec is read from ../shared/reference (next to the repository, never copied into
it); without it the plugin does nothing."""

from __future__ import annotations

import json
import os
import re
from collections import defaultdict
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT.parent / "shared" / "reference" / "lago-openapi.yaml"
API_DOC = ROOT / "docs" / "api.md"
PREFIX = "/api/v1"
METHODS = ("get", "post", "put", "patch", "delete")
ALLOWLIST_FENCE = "contract-allowlist"
STATUS_NOT_IN_SPEC = "$: status not in spec"
OPERATION_NOT_IN_SPEC = "$: operation not in spec"

# line -> first test that produced it
_seen: dict[str, str] = {}
_current_test = {"nodeid": "(outside a test)"}


# ---------------------------------------------------------------- the spec


@cache
def spec() -> dict | None:
    """The pinned spec with OpenAPI 3.0's `nullable: true` rewritten as JSON Schema, or None."""
    if not SPEC.exists():
        return None
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    document = yaml.load(SPEC.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 (safe)
    return _nullable(document)


def _nullable(node):
    """`nullable: true` (OpenAPI 3.0) becomes a `null` type; an enum of a nullable type accepts
    null (the spec writes `type: [string, 'null']` next to enums that do not list null)."""
    if isinstance(node, list):
        return [_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _nullable(value) for key, value in node.items()}
    if node.pop("nullable", False) is True:
        kind = node.get("type")
        if isinstance(kind, str):
            node["type"] = [kind, "null"]
        elif isinstance(kind, list):
            node["type"] = [*kind, "null"] if "null" not in kind else kind
        else:
            node = {"anyOf": [node, {"type": "null"}]}
    kind = node.get("type")
    if isinstance(kind, list) and "null" in kind and "enum" in node and None not in node["enum"]:
        node["enum"] = [*node["enum"], None]
    return node


@cache
def _templates() -> list[tuple[re.Pattern, str, int]]:
    """Spec path templates as regexes, the most literal first (`/events/batch` before
    `/events/{transaction_id}`)."""
    found = []
    for template in spec()["paths"]:
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
        literal = len(re.sub(r"\{[^}]+\}", "", template))
        found.append((re.compile(f"{pattern}$"), template, literal))
    return sorted(found, key=lambda row: -row[2])


def operation(method: str, path: str) -> str | None:
    """`METHOD /template` of the spec operation `path` (without /api/v1) answers, or None."""
    method = method.lower()
    for pattern, template, _ in _templates():
        if pattern.match(path) and method in spec()["paths"][template]:
            return f"{method.upper()} {template}"
    return None


def _resolve(node: dict) -> dict:
    while "$ref" in node and node["$ref"].startswith("#/"):
        target = spec()
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        node = target
    return node


_NO_SCHEMA = object()


@cache
def _validator(op: str, status: int):
    """The compiled validator for the answer `status` of `op`; None when the spec does not
    define that status, _NO_SCHEMA when it defines no JSON body."""
    import jsonschema_rs

    method, template = op.split(" ", 1)
    responses = spec()["paths"][template][method.lower()].get("responses", {})
    response = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX")
    response = response or responses.get("default")
    if response is None:
        return None
    schema = _resolve(response).get("content", {}).get("application/json", {}).get("schema")
    if schema is None:
        return _NO_SCHEMA
    document = {**schema, "components": spec()["components"]}
    return jsonschema_rs.Draft202012Validator(document, validate_formats=True)


# components/responses shared by the operations, per status
SHARED_ERRORS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound"}
SHARED_ERRORS[422] = "UnprocessableEntity"


@cache
def _shared_error_validator(status: int):
    import jsonschema_rs

    name = SHARED_ERRORS.get(status)
    response = spec()["components"].get("responses", {}).get(name) if name else None
    if response is None:
        return None
    schema = response["content"]["application/json"]["schema"]
    document = {**schema, "components": spec()["components"]}
    return jsonschema_rs.Draft202012Validator(document, validate_formats=True)


# ---------------------------------------------------------------- normalising errors


def _json_type(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _where(instance_path) -> str:
    return "$" + "".join("[*]" if isinstance(p, int) else f".{p}" for p in instance_path)


def _messages(error) -> list[tuple[str, str]]:
    """(json path, message) for one jsonschema_rs error, without the varying instance value;
    oneOf/anyOf are reported as the errors of their closest branch."""
    kind = error.kind
    name = kind.name
    where = _where(error.instance_path)
    value = error.instance
    if type(kind).__name__ == "OneOfMultipleValid":
        return [(where, f"{_json_type(value)} is valid under more than one oneOf branch")]
    if name in ("oneOf", "anyOf") and getattr(kind, "context", None):
        branch = min(kind.context, key=len)
        if branch:
            return [m for sub in branch for m in _messages(sub)]
    if name == "required":
        return [(where, f"'{kind.property}' is a required property")]
    if name == "type":
        expected = "|".join(f"'{t}'" for t in kind.types)
        return [(where, f"{_json_type(value)} is not of type {expected}")]
    if name == "format":
        return [(where, f"{_json_type(value)} is not a '{kind.format}'")]
    if name == "enum":
        shown = json.dumps(value) if value is None or isinstance(value, (str, bool)) else "value"
        return [(where, f"{shown[:60]} is not one of the enum")]
    if name == "additionalProperties":
        return [(where, f"unexpected property '{p}'") for p in kind.unexpected]
    return [(where, f"{name}: {error.message[:120]}")]


def check(method: str, path: str, status: int, body: bytes | str | object) -> list[str]:
    """Mismatches of one answer to `METHOD path` (path with /api/v1), each as one line. `body`
    is the raw JSON, or already parsed, or None when the answer is not JSON."""
    if spec() is None or not path.startswith(f"{PREFIX}/"):
        return []
    relative = path[len(PREFIX) :]
    op = operation(method, relative)
    if op is None:
        return [f"{method.upper()} {_route(path)} {status} {OPERATION_NOT_IN_SPEC}"]
    validator = _validator(op, status)
    lines = []
    if validator is None:  # still check an error body against the spec's shared one
        lines.append(f"{op} {status} {STATUS_NOT_IN_SPEC}")
        validator = _shared_error_validator(status)
    if validator is None or validator is _NO_SCHEMA:
        return lines
    if body is None:
        return [*lines, f"{op} {status} $: body is not JSON"]
    if isinstance(body, (bytes, str)):
        try:
            body = json.loads(body)
        except ValueError:
            return [*lines, f"{op} {status} $: body is not JSON"]
    found = {
        f"{op} {status} {where}: {message}"
        for error in validator.iter_errors(body)
        for where, message in _messages(error)
    }
    return lines + sorted(found)


def _route(path: str) -> str:
    """The URLconf's route for a path the spec does not know, ids as `{name}`."""
    from django.urls import Resolver404, resolve

    try:
        route = resolve(path).route
    except Resolver404:
        return path[len(PREFIX) :]
    route = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", route).strip("^$")
    route = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)
    route = "/" + route.removeprefix("api/v1/").removeprefix("/").rstrip("/")
    return re.sub(r"\\\.", ".", route)


# ---------------------------------------------------------------- the allow-list


def allowlist(text: str | None = None) -> list[tuple[re.Pattern, str]]:
    """(pattern, source line) from the ```contract-allowlist block(s) of docs/api.md."""
    text = API_DOC.read_text(encoding="utf-8") if text is None else text
    found = []
    for block in re.findall(rf"```{ALLOWLIST_FENCE}\n(.*?)```", text, re.S):
        for raw in block.splitlines():
            line, _, reason = raw.partition(" | ")
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if not reason.strip():
                raise ValueError(f"{API_DOC.name} allow-list line without ` | <reason>`: {raw}")
            pattern = ".*".join(re.escape(part) for part in line.split("*"))
            found.append((re.compile(pattern + r"\Z"), line))
    return found


def unlisted(lines, allowed) -> list[str]:
    return sorted(line for line in lines if not any(p.match(line) for p, _ in allowed))


# ---------------------------------------------------------------- pytest plugin


def _record(request, response) -> None:
    path = request.path
    if not path.startswith(f"{PREFIX}/") or getattr(response, "streaming", False):
        return
    json_body = "json" in response.get("Content-Type", "") and response.content
    lines = check(request.method, path, response.status_code, json_body or None)
    for line in lines:
        _seen.setdefault(line, _current_test["nodeid"])


def _install() -> None:
    from django.core.handlers.base import BaseHandler

    original = BaseHandler.get_response
    if getattr(original, "contract_checked", False):
        return

    def get_response(self, request):
        response = original(self, request)
        try:
            _record(request, response)
        except Exception as exc:  # a checker bug must not hide the test's own result
            _seen.setdefault(f"(checker error) {type(exc).__name__}: {exc}", "")
        return response

    get_response.contract_checked = True
    BaseHandler.get_response = get_response


def pytest_configure(config):
    if SPEC.exists():  # the spec itself is read on the first API answer
        _install()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    _current_test["nodeid"] = item.nodeid


def pytest_sessionfinish(session, exitstatus):
    config = session.config
    if hasattr(config, "workerinput"):  # pytest-xdist worker: the controller reports
        config.workeroutput["contract_mismatches"] = json.dumps(_seen)
        return
    bad = unlisted(_seen, allowlist())
    config._contract_unlisted = bad
    dump = os.environ.get("CONTRACT_DUMP")  # every line seen, listed or not (to edit the list)
    if dump:
        Path(dump).write_text("".join(f"{line}\t{test}\n" for line, test in sorted(_seen.items())))
    if bad and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """pytest-xdist controller: gather the workers' mismatches."""
    for line, test in json.loads(node.workeroutput.get("contract_mismatches", "{}")).items():
        _seen.setdefault(line, test)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    bad = getattr(config, "_contract_unlisted", [])
    if not bad:
        return
    by_test = defaultdict(list)
    for line in bad:
        by_test[_seen[line]].append(line)
    terminalreporter.section("API responses that break Lago's OpenAPI spec", red=True)
    terminalreporter.line(
        f"{len(bad)} mismatch(es) not in the `{ALLOWLIST_FENCE}` block of docs/api.md "
        "(fix the response, or list the line with ` | <reason>`):"
    )
    for test, lines in sorted(by_test.items()):
        terminalreporter.line(f"  first seen in {test}")
        for line in lines:
            terminalreporter.line(f"    {line}")
