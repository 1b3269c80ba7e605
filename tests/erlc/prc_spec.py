"""Validate requests against the project's own copy of the PRC API (bot/erlc/prc-openapi.yaml), as tests/spec.py
does for Northca: the operation exists, the required headers are there, every query parameter is one the copy
names with an allowed value, and a body is sent exactly where the copy declares one, matching its schema."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

import bot.erlc
from tests.spec import _inline  # the one $ref inliner of both spec copies

SPEC = Path(bot.erlc.__file__).parent / "prc-openapi.yaml"


@dataclass
class Operation:
    method: str
    path: str
    parameters: list[dict[str, Any]]
    body_schema: dict[str, Any] | None


@lru_cache(maxsize=1)
def operations() -> dict[tuple[str, str], Operation]:
    spec = yaml.safe_load(SPEC.read_text())
    ops = {}
    for path, item in spec["paths"].items():
        for method, op in item.items():
            op = _inline(op, spec)
            body = op.get("requestBody")
            schema = body["content"]["application/json"]["schema"] if body else None
            ops[(method.upper(), path)] = Operation(method.upper(), path, op.get("parameters", []), schema)
    return ops


def validate_prc_request(method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes) -> str:
    """Raise AssertionError naming what breaks the copy; return the operation matched."""
    headers = {k.lower(): v for k, v in headers.items()}
    op = operations().get((method, path))
    assert op is not None, f"{method} {path} is not an operation of the PRC API copy"
    known_query = set()
    for param in op.parameters:
        where, name, schema = param["in"], param["name"], param.get("schema", {})
        if where == "header":
            value = headers.get(name.lower())
        elif where == "query":
            known_query.add(name)
            value = query.get(name)
        else:
            continue
        if value is None:
            assert not param.get("required"), f"{method} {path}: required {where} {name} missing"
            continue
        jsonschema.validate(value, schema)
    unknown = set(query) - known_query
    assert not unknown, f"{method} {path}: query parameters not in the copy: {sorted(unknown)}"
    if op.body_schema is None:
        assert not body, f"{method} {path}: the copy declares no body, but one was sent"
    else:
        assert headers.get("content-type", "").startswith("application/json"), "body is not application/json"
        jsonschema.Draft202012Validator(op.body_schema).validate(json.loads(body))
    return f"{method} {path}"
