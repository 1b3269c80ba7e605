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

# Components V2 (the layout components: container, section, text display...): a message with this flag carries no
# content and no embeds, at most 40 components counted through every level (accessories included), and at most
# 4,000 characters in all of its text displays together.
IS_COMPONENTS_V2 = 1 << 15
_MAX_LAYOUT_COMPONENTS = 40
_MAX_LAYOUT_TEXT = 4000
_TEXT_DISPLAY = 10

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


def _walk(components: Any) -> list[Mapping[str, Any]]:
    """Every component of a message, through containers' and sections' children and their accessories."""
    found: list[Mapping[str, Any]] = []
    if not isinstance(components, Sequence) or isinstance(components, str):
        return found
    for comp in components:
        if not isinstance(comp, Mapping):
            continue
        found.append(comp)
        found.extend(_walk(comp.get("components")))
        for key in ("accessory", "component"):
            child = comp.get(key)
            if isinstance(child, Mapping):
                found.extend(_walk([child]))
    return found


def _layout_errors(body: Mapping[str, Any]) -> Errors:
    """The Components V2 rules, for a message whose flags say it uses them."""
    flags = body.get("flags")
    if not isinstance(flags, int) or not flags & IS_COMPONENTS_V2:
        return {}
    errors: Errors = {}
    for key in ("content", "embeds"):
        if body.get(key):  # absent, None, "" and [] are what Discord accepts
            errors[key] = {
                "_errors": [
                    {
                        "code": "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
                        "message": "The 'content' and 'embeds' fields cannot be used when using"
                        " MessageFlags.IS_COMPONENTS_V2",
                    }
                ]
            }
    every = _walk(body.get("components"))
    problems = []
    if len(every) > _MAX_LAYOUT_COMPONENTS:
        problems.append(
            {"code": "BASE_TYPE_MAX_LENGTH", "message": f"Must be {_MAX_LAYOUT_COMPONENTS} or fewer in length."}
        )
    text = sum(len(c.get("content") or "") for c in every if c.get("type") == _TEXT_DISPLAY)
    if text > _MAX_LAYOUT_TEXT:
        problems.append(
            {
                "code": "MAX_TEXT_DISPLAY_CONTENT_LENGTH_EXCEEDED",
                "message": f"Text display content length exceeds maximum of {_MAX_LAYOUT_TEXT}",
            }
        )
    if problems:
        errors["components"] = {"_errors": problems}
    return errors


def message_errors(body: Any) -> Errors:
    """Errors in a message body (new message, followup, or edit); empty when Discord accepts it."""
    if not isinstance(body, Mapping):
        return {}
    errors = _check_texts(body, _MESSAGE)
    layout = _layout_errors(body)
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
    for key, found_here in layout.items():
        if key in errors and isinstance(errors[key], dict):
            errors[key].setdefault("_errors", []).extend(found_here["_errors"])
        else:
            errors[key] = found_here
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
