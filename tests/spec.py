"""Validate requests against the project's own copy of the Northca spec.

The spec is OpenAPI 3.1 but uses the 3.0 keyword `nullable`; each
`nullable: true` is turned into a union with `null` before validating, so the
`null`s the API documents are accepted and nothing else is loosened.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

import bot.northca

SPEC_DIR = Path(bot.northca.__file__).parent
SPEC_FILES = ("openapi.yaml", "openapi-extra.yaml")


def _denull(node: Any) -> Any:
    if isinstance(node, dict):
        node = {k: _denull(v) for k, v in node.items()}
        if node.pop("nullable", False) is True and "type" in node:
            node["type"] = [node["type"], "null"] if isinstance(node["type"], str) else [*node["type"], "null"]
        return node
    if isinstance(node, list):
        return [_denull(v) for v in node]
    return node


def _inline(node: Any, spec: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            target: Any = spec
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            return _inline(target, spec)
        return {k: _inline(v, spec) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline(v, spec) for v in node]
    return node


@dataclass
class Operation:
    method: str
    template: str
    pattern: re.Pattern[str]
    parameters: list[dict[str, Any]]
    body_schema: dict[str, Any] | None
    body_required: bool


@lru_cache(maxsize=1)
def operations() -> list[Operation]:
    ops = []
    for name in SPEC_FILES:
        spec = yaml.safe_load((SPEC_DIR / name).read_text())
        for template, item in spec["paths"].items():
            pattern = re.compile("^/v1" + re.sub(r"\{[^}]+\}", "([^/]+)", template) + "$")
            for method, op in item.items():
                op = _denull(_inline(op, spec))
                body = op.get("requestBody")
                schema = body["content"]["application/json"]["schema"] if body else None
                ops.append(
                    Operation(
                        method.upper(),
                        template,
                        pattern,
                        op.get("parameters", []),
                        schema,
                        bool(body and body.get("required")),
                    )
                )
    return ops


def validate_request(method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes) -> str:
    """Raise AssertionError naming what breaks the spec; return the matched operation."""
    headers = {k.lower(): v for k, v in headers.items()}
    matches = [op for op in operations() if op.method == method and op.pattern.match(path)]
    assert matches, f"{method} {path} is not an operation of the spec"
    op = matches[0]
    assert headers.get("x-partner-key"), f"{method} {path}: no x-partner-key (security: PartnerKey)"
    known_query = set()
    for param in op.parameters:
        where, name, schema = param["in"], param["name"], param.get("schema", {})
        value: str | int | None
        if where == "header":
            value = headers.get(name.lower())
        elif where == "query":
            known_query.add(name)
            value = query.get(name)
            if value is not None and schema.get("type") == "integer":
                assert re.fullmatch(r"-?\d+", value), f"query {name}={value!r} is not an integer"
                value = int(value)
        else:
            continue
        if value is None:
            assert not param.get("required"), f"{method} {path}: required {where} parameter {name} missing"
            continue
        jsonschema.validate(value, schema)
    unknown = set(query) - known_query
    assert not unknown, f"{method} {path}: query parameters not in the spec: {sorted(unknown)}"
    if op.body_schema is None:
        assert not body, f"{method} {path}: the spec declares no body, but one was sent"
    else:
        assert body or not op.body_required, f"{method} {path}: required body missing"
        assert headers.get("content-type", "").startswith("application/json"), "body is not application/json"
        jsonschema.Draft202012Validator(op.body_schema, format_checker=jsonschema.FormatChecker()).validate(
            json.loads(body)
        )
    return f"{op.method} {op.template}"
