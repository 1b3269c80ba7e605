"""Discord's size limits, checked the way Discord checks them: an over-limit text makes
the whole request fail with HTTP 400, code 50035 "Invalid Form Body", and an ``errors``
tree naming the field. Written independently of the bot's own fitting (bot/discord/discord_text.py)
so a test catches the bot sending too much, whatever the bot believes the limits are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# field -> limit, per object kind
_MESSAGE = {"content": 2000}
_EMBED = {"title": 256, "description": 4096}
_FIELD = {"name": 256, "value": 1024}
_FOOTER = {"text": 2048}
_AUTHOR = {"name": 256}
_EMBED_TOTAL = 6000
_MAX_FIELDS = 25
_MAX_EMBEDS = 10
_BUTTON = {"label": 80}
_SELECT = {"placeholder": 150}
_OPTION = {"label": 100, "description": 100, "value": 100}
_MAX_OPTIONS = 25
_TEXT_INPUT = {"label": 45, "placeholder": 100}
_MODAL = {"title": 45}
_CHOICE = {"name": 100}
_MAX_CHOICES = 25

Errors = dict[str, Any]


def _too_long(limit: int) -> Errors:
    return {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": f"Must be {limit} or fewer in length."}]}


def _check_texts(obj: Mapping[str, Any], limits: Mapping[str, int]) -> Errors:
    errors: Errors = {}
    for key, limit in limits.items():
        value = obj.get(key)
        if isinstance(value, str) and len(value) > limit:
            errors[key] = _too_long(limit)
    return errors


def _check_list(items: Any, limit: int, each: Any) -> Errors:
    if not isinstance(items, Sequence) or isinstance(items, str):
        return {}
    errors: Errors = {}
    if len(items) > limit:
        errors.update(_too_long(limit))
    for i, item in enumerate(items):
        if isinstance(item, Mapping):
            found = each(item)
            if found:
                errors[str(i)] = found
    return errors


def _embed_errors(embed: Mapping[str, Any]) -> Errors:
    errors = _check_texts(embed, _EMBED)
    fields = _check_list(embed.get("fields"), _MAX_FIELDS, lambda f: _check_texts(f, _FIELD))
    if fields:
        errors["fields"] = fields
    for key, limits in (("footer", _FOOTER), ("author", _AUTHOR)):
        part = embed.get(key)
        if isinstance(part, Mapping) and (found := _check_texts(part, limits)):
            errors[key] = found
    return errors


def _embed_size(embed: Mapping[str, Any]) -> int:
    def text(obj: Any, key: str) -> int:
        value = obj.get(key) if isinstance(obj, Mapping) else None
        return len(value) if isinstance(value, str) else 0

    size = text(embed, "title") + text(embed, "description")
    size += text(embed.get("footer"), "text") + text(embed.get("author"), "name")
    for item in embed.get("fields") or []:
        size += text(item, "name") + text(item, "value")
    return size


def _component_errors(comp: Mapping[str, Any]) -> Errors:
    kind = comp.get("type")
    errors: Errors = {}
    if kind == 2:
        errors = _check_texts(comp, _BUTTON)
    elif kind in (3, 5, 6, 7, 8):
        errors = _check_texts(comp, _SELECT)
        options = _check_list(comp.get("options"), _MAX_OPTIONS, lambda o: _check_texts(o, _OPTION))
        if options:
            errors["options"] = options
    elif kind == 4:
        errors = _check_texts(comp, _TEXT_INPUT)
    for key in ("components",):
        found = _check_list(comp.get(key), 40, _component_errors)
        if found:
            errors[key] = found
    for key in ("component", "accessory"):
        child = comp.get(key)
        if isinstance(child, Mapping) and (found := _component_errors(child)):
            errors[key] = found
    return errors


def message_errors(body: Any) -> Errors:
    """Errors in a message body (new message, followup, or edit); empty when Discord accepts it."""
    if not isinstance(body, Mapping):
        return {}
    errors = _check_texts(body, _MESSAGE)
    embeds = body.get("embeds")
    found = _check_list(embeds, _MAX_EMBEDS, _embed_errors)
    if isinstance(embeds, Sequence) and sum(_embed_size(e) for e in embeds if isinstance(e, Mapping)) > _EMBED_TOTAL:
        found.setdefault("_errors", []).append(
            {"code": "MAX_EMBED_SIZE_EXCEEDED", "message": f"Embed size exceeds maximum size of {_EMBED_TOTAL}"}
        )
    if found:
        errors["embeds"] = found
    components = _check_list(body.get("components"), 40, _component_errors)
    if components:
        errors["components"] = components
    return errors


def callback_errors(body: Any) -> Errors:
    """Errors in an interaction callback: its ``data`` is a message, autocomplete choices or a modal."""
    if not isinstance(body, Mapping) or not isinstance(body.get("data"), Mapping):
        return {}
    data = body["data"]
    kind = body.get("type")
    if kind == 8:
        found = _check_list(data.get("choices"), _MAX_CHOICES, lambda c: _check_texts(c, _CHOICE))
        errors: Errors = {"choices": found} if found else {}
    elif kind == 9:
        errors = _check_texts(data, _MODAL)
        components = _check_list(data.get("components"), 5, _component_errors)
        if components:
            errors["components"] = components
    else:
        errors = message_errors(data)
    return {"data": errors} if errors else {}
