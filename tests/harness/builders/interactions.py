"""Pure builders for interaction payloads (slash commands, autocomplete, component clicks,
modal submits) with typed option wrappers, shaped as the gateway sends INTERACTION_CREATE.

The shapes follow the facts in tests/harness/README.md: every interaction carries ``id``,
``application_id``, ``token``, ``version: 1`` and ``attachment_size_limit``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .entities import (
    DEFAULT_APP_PERMISSIONS,
    DEFAULT_ATTACHMENT_SIZE_LIMIT,
    DEFAULT_CHANNEL_ID,
    _token,
    channel,
    snowflake,
)

# --- typed option wrappers -----------------------------------------------------


@dataclass(frozen=True)
class Opt:
    """An option with an explicit Discord option ``type`` (e.g. 10 for a number)."""

    value: Any
    type: int


@dataclass(frozen=True)
class UserOption:
    """A user option (type 6). Pass a ``member()`` payload (guild) or a ``user()`` payload."""

    payload: Mapping[str, Any]

    @property
    def user_payload(self) -> dict[str, Any]:
        return dict(self.payload["user"]) if "user" in self.payload else dict(self.payload)

    @property
    def id(self) -> str:
        return str(self.user_payload["id"])


@dataclass(frozen=True)
class RoleOption:
    """A role option (type 8) from a ``role()`` payload."""

    payload: Mapping[str, Any]


@dataclass(frozen=True)
class ChannelOption:
    """A channel option (type 7) from a ``channel()`` payload."""

    payload: Mapping[str, Any]
    permissions: int = DEFAULT_APP_PERMISSIONS


def _encode_option(name: str, value: Any, resolved: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One leaf option; fills ``resolved`` for snowflake-typed options."""
    if isinstance(value, Opt):
        return {"name": name, "type": value.type, "value": value.value}
    if isinstance(value, UserOption):
        u = value.user_payload
        resolved.setdefault("users", {})[u["id"]] = u
        if "user" in value.payload:
            # Discord sends resolved members *without* the nested user
            m = {k: v for k, v in value.payload.items() if k != "user"}
            resolved.setdefault("members", {})[u["id"]] = m
        return {"name": name, "type": 6, "value": u["id"]}
    if isinstance(value, RoleOption):
        r = dict(value.payload)
        resolved.setdefault("roles", {})[r["id"]] = r
        return {"name": name, "type": 8, "value": r["id"]}
    if isinstance(value, ChannelOption):
        c = dict(value.payload)
        c.setdefault("permissions", str(value.permissions))
        resolved.setdefault("channels", {})[c["id"]] = c
        return {"name": name, "type": 7, "value": c["id"]}
    # bool first: bool is a subclass of int
    if isinstance(value, bool):
        return {"name": name, "type": 5, "value": value}
    if isinstance(value, int):
        return {"name": name, "type": 4, "value": value}
    if isinstance(value, float):
        return {"name": name, "type": 10, "value": value}
    if isinstance(value, str):
        return {"name": name, "type": 3, "value": value}
    raise TypeError(f"option {name!r}: unsupported value {value!r}; wrap it in Opt(value, type)")


def _nest(leaves: list[dict[str, Any]], group: str | None, sub: str | None) -> list[dict[str, Any]]:
    """Wrap leaf options into subcommand (type 1) / group (type 2) levels."""
    if sub is None:
        if group is not None:
            raise ValueError("a subcommand group needs a subcommand (sub=...)")
        return leaves
    options: list[dict[str, Any]] = [{"name": sub, "type": 1, "options": leaves}]
    if group is not None:
        options = [{"name": group, "type": 2, "options": options}]
    return options


# --- interactions --------------------------------------------------------------


def _base_interaction(
    type_: int,
    *,
    app_id: int,
    guild_id: int | None,
    channel_id: int,
    member: Mapping[str, Any] | None,
    user: Mapping[str, Any] | None,
    app_permissions: int,
    locale: str,
    guild_locale: str,
    channel_payload: Mapping[str, Any] | None,
    interaction_id: int | None,
    token: str | None,
) -> dict[str, Any]:
    if guild_id is not None and member is None:
        raise ValueError("a guild interaction needs member=...")
    if guild_id is None and user is None:
        raise ValueError("a DM interaction needs user=... (or pass guild_id and member)")
    payload: dict[str, Any] = {
        "id": str(interaction_id if interaction_id is not None else snowflake()),
        "application_id": str(app_id),
        "type": type_,
        "token": token or _token(),
        "version": 1,
        "attachment_size_limit": DEFAULT_ATTACHMENT_SIZE_LIMIT,
        "locale": locale,
        "entitlements": [],
        "entitlement_sku_ids": [],
        "authorizing_integration_owners": {"0": str(guild_id)} if guild_id is not None else {},
        "context": 0 if guild_id is not None else 1,
        "app_permissions": str(int(app_permissions)),
        "channel_id": str(channel_id),
    }
    if channel_payload is not None:
        ch = dict(channel_payload)
    elif guild_id is not None:
        ch = channel(channel_id, guild_id=guild_id, permissions=app_permissions)
    else:
        ch = channel(channel_id, type=1)
    payload["channel"] = ch
    if guild_id is not None:
        payload["guild_id"] = str(guild_id)
        payload["guild_locale"] = guild_locale
        payload["guild"] = {"id": str(guild_id), "locale": guild_locale, "features": []}
        payload["member"] = dict(member or {})
    else:
        payload["user"] = dict(user or {})
    return payload


def slash_payload(
    name: str,
    *,
    app_id: int,
    guild_id: int | None = None,
    channel_id: int = DEFAULT_CHANNEL_ID,
    member: Mapping[str, Any] | None = None,
    user: Mapping[str, Any] | None = None,
    group: str | None = None,
    sub: str | None = None,
    options: Mapping[str, Any] | None = None,
    resolved: Mapping[str, Any] | None = None,
    app_permissions: int = DEFAULT_APP_PERMISSIONS,
    command_id: int | None = None,
    command_guild_id: int | None = None,
    locale: str = "en-US",
    guild_locale: str = "en-US",
    channel_payload: Mapping[str, Any] | None = None,
    interaction_id: int | None = None,
    token: str | None = None,
    _type: int = 2,
    _focused: str | None = None,
) -> dict[str, Any]:
    """A type-2 (APPLICATION_COMMAND) INTERACTION_CREATE payload for a chat-input command.

    ``options`` values are typed by their Python type (str 3, int 4, bool 5,
    float 10) or by a wrapper (``UserOption`` 6, ``ChannelOption`` 7,
    ``RoleOption`` 8, ``Opt(value, type)``). ``resolved`` is merged over what
    the wrappers produce. ``command_guild_id`` sets ``data.guild_id``, which
    discord.py needs to find a command registered to a guild.
    """
    res: dict[str, dict[str, Any]] = {}
    leaves = []
    for opt_name, value in (options or {}).items():
        leaf = _encode_option(opt_name, value, res)
        if opt_name == _focused:
            leaf["focused"] = True
        leaves.append(leaf)
    for key, mapping in (resolved or {}).items():
        res.setdefault(key, {}).update(mapping)
    data: dict[str, Any] = {
        "id": str(command_id if command_id is not None else snowflake()),
        "name": name,
        "type": 1,
        "options": _nest(leaves, group, sub),
    }
    if res:
        data["resolved"] = res
    if command_guild_id is not None:
        data["guild_id"] = str(command_guild_id)
    payload = _base_interaction(
        _type,
        app_id=app_id,
        guild_id=guild_id,
        channel_id=channel_id,
        member=member,
        user=user,
        app_permissions=app_permissions,
        locale=locale,
        guild_locale=guild_locale,
        channel_payload=channel_payload,
        interaction_id=interaction_id,
        token=token,
    )
    payload["data"] = data
    return payload


def autocomplete_payload(
    name: str,
    *,
    focused: str,
    app_id: int,
    options: Mapping[str, Any],
    **kwargs: Any,
) -> dict[str, Any]:
    """A type-4 (APPLICATION_COMMAND_AUTOCOMPLETE) payload; ``focused`` names the option
    being typed (it must be in ``options``, with the partial input as value).
    Other keywords are those of :func:`slash_payload`."""
    if focused not in options:
        raise ValueError(f"focused option {focused!r} must be given in options")
    return slash_payload(name, app_id=app_id, options=options, _type=4, _focused=focused, **kwargs)


def click_payload(
    custom_id: str,
    *,
    app_id: int,
    message: Mapping[str, Any],
    guild_id: int | None = None,
    member: Mapping[str, Any] | None = None,
    user: Mapping[str, Any] | None = None,
    channel_id: int | None = None,
    component_type: int = 2,
    values: Sequence[str] | None = None,
    app_permissions: int = DEFAULT_APP_PERMISSIONS,
    locale: str = "en-US",
    guild_locale: str = "en-US",
    channel_payload: Mapping[str, Any] | None = None,
    interaction_id: int | None = None,
    token: str | None = None,
) -> dict[str, Any]:
    """A type-3 (MESSAGE_COMPONENT) payload: a button click (``component_type`` 2)
    or, with ``values``, a select (``component_type`` 3 for a string select)."""
    if channel_id is None:
        channel_id = int(message["channel_id"])
    payload = _base_interaction(
        3,
        app_id=app_id,
        guild_id=guild_id,
        channel_id=channel_id,
        member=member,
        user=user,
        app_permissions=app_permissions,
        locale=locale,
        guild_locale=guild_locale,
        channel_payload=channel_payload,
        interaction_id=interaction_id,
        token=token,
    )
    data: dict[str, Any] = {"custom_id": custom_id, "component_type": component_type}
    if values is not None:
        data["values"] = list(values)
    payload["data"] = data
    msg = dict(message)
    if guild_id is not None:
        msg.setdefault("guild_id", str(guild_id))
    payload["message"] = msg
    return payload


def modal_submit_payload(
    custom_id: str,
    *,
    app_id: int,
    values: Mapping[str, str | Sequence[str]],
    guild_id: int | None = None,
    member: Mapping[str, Any] | None = None,
    user: Mapping[str, Any] | None = None,
    channel_id: int = DEFAULT_CHANNEL_ID,
    message: Mapping[str, Any] | None = None,
    app_permissions: int = DEFAULT_APP_PERMISSIONS,
    locale: str = "en-US",
    guild_locale: str = "en-US",
    interaction_id: int | None = None,
    token: str | None = None,
) -> dict[str, Any]:
    """A type-5 (MODAL_SUBMIT) payload; ``values`` maps text-input custom_id -> text, or a string select's (inside a
    Label, as Discord sends it: type 18 holding the select) custom_id -> the values picked."""
    payload = _base_interaction(
        5,
        app_id=app_id,
        guild_id=guild_id,
        channel_id=channel_id,
        member=member,
        user=user,
        app_permissions=app_permissions,
        locale=locale,
        guild_locale=guild_locale,
        channel_payload=None,
        interaction_id=interaction_id,
        token=token,
    )
    payload["data"] = {
        "custom_id": custom_id,
        "components": [
            {"type": 1, "components": [{"type": 4, "custom_id": cid, "value": value}]}
            if isinstance(value, str)
            else {"type": 18, "component": {"type": 3, "custom_id": cid, "values": list(value)}}
            for cid, value in values.items()
        ],
    }
    if message is not None:
        payload["message"] = dict(message)
    return payload
