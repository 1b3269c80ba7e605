"""Pure builders for Discord entities (users, members, roles, channels, guilds, messages) and
snowflakes, shaped as Discord sends them, plus the permission bits tests use.

Everything here returns plain dicts (JSON-compatible: snowflakes and permission
bitfields are strings, as on the wire) and has no side effects apart from
drawing fresh snowflakes. The shapes follow the facts in tests/harness/README.md;
a message created by an interaction response carries ``interaction_metadata``.
"""

from __future__ import annotations

import itertools
import secrets
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

# --- constants ---------------------------------------------------------------

DISCORD_EPOCH_MS = 1420070400000

# Permission bits used by defaults here (see discord.Permissions for the rest).
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
USE_EXTERNAL_EMOJIS = 1 << 18
MANAGE_NICKNAMES = 1 << 27
MANAGE_ROLES = 1 << 28
USE_APPLICATION_COMMANDS = 1 << 31
SEND_MESSAGES_IN_THREADS = 1 << 38
ADMINISTRATOR = 1 << 3
MANAGE_GUILD = 1 << 5

#: What a sensibly configured bot has: send/embed/attach, manage roles/nicks/messages.
DEFAULT_APP_PERMISSIONS = (
    ADD_REACTIONS
    | VIEW_CHANNEL
    | SEND_MESSAGES
    | MANAGE_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | USE_EXTERNAL_EMOJIS
    | MANAGE_NICKNAMES
    | MANAGE_ROLES
    | USE_APPLICATION_COMMANDS
    | SEND_MESSAGES_IN_THREADS
)

#: Discord's default upload limit for unboosted guilds (required key since discord.py 2.6).
DEFAULT_ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024

DEFAULT_CHANNEL_ID = 900000000000000001

# --- snowflakes --------------------------------------------------------------

_counter = itertools.count()
_lock = threading.Lock()


def snowflake(at: float | None = None) -> int:
    """A fresh, unique, time-ordered Discord snowflake (for ``at`` or now)."""
    ms = int((time.time() if at is None else at) * 1000) - DISCORD_EPOCH_MS
    with _lock:
        increment = next(_counter) & 0xFFF
    # worker 1, process 1: keeps ids realistic and distinct from Discord's epoch-0 ids
    return (ms << 22) | (1 << 17) | (1 << 12) | increment


def snowflake_time(value: int) -> datetime:
    return datetime.fromtimestamp(((value >> 22) + DISCORD_EPOCH_MS) / 1000, tz=UTC)


def iso_now() -> str:
    return datetime.now(UTC).isoformat()


def _token() -> str:
    return "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48)


def _sid(value: int | str | None) -> str | None:
    return None if value is None else str(value)


# --- users, members, roles, channels, guilds ----------------------------------


def user(
    id: int,
    username: str | None = None,
    *,
    global_name: str | None = None,
    bot: bool = False,
    avatar: str | None = None,
    discriminator: str = "0",
) -> dict[str, Any]:
    """A ``User`` object."""
    name = username if username is not None else f"user{str(id)[-4:]}"
    payload: dict[str, Any] = {
        "id": str(id),
        "username": name,
        "discriminator": discriminator,
        "global_name": global_name if global_name is not None else (None if bot else name.title()),
        "avatar": avatar,
        "public_flags": 0,
        "flags": 0,
    }
    if bot:
        payload["bot"] = True
    return payload


def member(
    user_id: int,
    *,
    permissions: int = 0,
    roles: Iterable[int] = (),
    nick: str | None = None,
    username: str | None = None,
    joined_at: str | None = None,
    bot: bool = False,
) -> dict[str, Any]:
    """A guild ``Member`` as found in an interaction (``member`` key, with ``user``).

    ``permissions`` is the *resolved* bitfield for the channel (Discord computes
    it; the administrator bit alone does not imply the others in discord.py's
    checks), serialised as a string like on the wire.
    """
    return {
        "user": user(user_id, username, bot=bot),
        "roles": [str(r) for r in roles],
        "nick": nick,
        "avatar": None,
        "banner": None,
        "joined_at": joined_at or "2024-01-01T00:00:00.000000+00:00",
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
        "permissions": str(int(permissions)),
        "communication_disabled_until": None,
    }


def role(
    id: int,
    name: str,
    *,
    permissions: int = 0,
    position: int = 1,
    managed: bool = False,
    color: int = 0,
    hoist: bool = False,
    mentionable: bool = False,
    tags: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A ``Role`` object. The ``@everyone`` role has ``id == guild_id`` and position 0."""
    payload: dict[str, Any] = {
        "id": str(id),
        "name": name,
        "permissions": str(int(permissions)),
        "position": position,
        "color": color,
        "colors": {"primary_color": color, "secondary_color": None, "tertiary_color": None},
        "hoist": hoist,
        "managed": managed,
        "mentionable": mentionable,
        "icon": None,
        "unicode_emoji": None,
        "flags": 0,
    }
    if tags is not None:
        payload["tags"] = dict(tags)
    return payload


def channel(
    id: int,
    *,
    guild_id: int | None = None,
    name: str = "general",
    type: int = 0,
    position: int = 0,
    parent_id: int | None = None,
    permissions: int | None = None,
) -> dict[str, Any]:
    """A guild text channel (``type`` 0) or, without ``guild_id`` and ``type=1``, a DM."""
    if type == 1:
        return {"id": str(id), "type": 1, "last_message_id": None, "flags": 0, "recipients": []}
    payload: dict[str, Any] = {
        "id": str(id),
        "type": type,
        "name": name,
        "position": position,
        "parent_id": _sid(parent_id),
        "topic": None,
        "nsfw": False,
        "rate_limit_per_user": 0,
        "last_message_id": None,
        "permission_overwrites": [],
        "flags": 0,
    }
    if guild_id is not None:
        payload["guild_id"] = str(guild_id)
    if permissions is not None:  # present on channels in `resolved` and in interactions
        payload["permissions"] = str(int(permissions))
    return payload


def guild_payload(
    guild_id: int,
    *,
    name: str = "Test Guild",
    owner_id: int,
    roles: Sequence[Mapping[str, Any]] = (),
    members: Sequence[Mapping[str, Any]] = (),
    channels: Sequence[Mapping[str, Any]] = (),
    everyone_permissions: int = VIEW_CHANNEL | SEND_MESSAGES | READ_MESSAGE_HISTORY | USE_APPLICATION_COMMANDS,
) -> dict[str, Any]:
    """A GUILD_CREATE-like payload. Adds the ``@everyone`` role if ``roles`` lacks it."""
    role_list = [dict(r) for r in roles]
    if not any(r["id"] == str(guild_id) for r in role_list):
        role_list.insert(0, role(guild_id, "@everyone", permissions=everyone_permissions, position=0))
    channel_list = []
    for c in channels:
        c = dict(c)
        c["guild_id"] = str(guild_id)
        channel_list.append(c)
    member_list = []
    for m in members:
        m = dict(m)
        m.pop("permissions", None)  # only interaction members carry resolved permissions
        member_list.append(m)
    return {
        "id": str(guild_id),
        "name": name,
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "banner": None,
        "description": None,
        "owner_id": str(owner_id),
        "afk_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 0,
        "default_message_notifications": 1,
        "explicit_content_filter": 0,
        "mfa_level": 0,
        "nsfw_level": 0,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "premium_progress_bar_enabled": False,
        "preferred_locale": "en-US",
        "system_channel_id": None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "public_updates_channel_id": None,
        "vanity_url_code": None,
        "features": [],
        "emojis": [],
        "stickers": [],
        "roles": role_list,
        "channels": channel_list,
        "threads": [],
        "members": member_list,
        "voice_states": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
        "member_count": len(member_list),
        "large": False,
        "unavailable": False,
        "joined_at": "2024-01-01T00:00:00.000000+00:00",
    }


def message_payload(
    id: int,
    channel_id: int,
    *,
    content: str = "",
    embeds: Sequence[Mapping[str, Any]] = (),
    components: Sequence[Mapping[str, Any]] = (),
    attachments: Sequence[Mapping[str, Any]] = (),
    flags: int = 0,
    guild_id: int | None = None,
    author: Mapping[str, Any] | None = None,
    interaction_id: int | None = None,
    interaction_type: int = 2,
    interaction_user: Mapping[str, Any] | None = None,
    application_id: int | None = None,
    webhook_id: int | None = None,
    edited_timestamp: str | None = None,
    tts: bool = False,
    type: int = 0,
) -> dict[str, Any]:
    """A full ``Message`` object.

    With ``interaction_id`` the message looks like one created by an interaction
    response: ``interaction_metadata.id`` is that interaction (discord.py <= 2.7.0
    keys a view sent with ``response.send_message`` by it, 2.7.1+ by the message id).
    """
    if author is None:
        author = user(application_id or 1, "bot", bot=True)
    payload: dict[str, Any] = {
        "id": str(id),
        "channel_id": str(channel_id),
        "type": type,
        "content": content,
        "author": dict(author),
        "embeds": [dict(e) for e in embeds],
        "components": [dict(c) for c in components],
        "attachments": [dict(a) for a in attachments],
        "mentions": [],
        "mention_roles": [],
        "mention_channels": [],
        "mention_everyone": False,
        "pinned": False,
        "tts": tts,
        "timestamp": snowflake_time(int(id)).isoformat() if int(id) > (1 << 22) else iso_now(),
        "edited_timestamp": edited_timestamp,
        "flags": flags,
        "reactions": [],
        "sticker_items": [],
    }
    if guild_id is not None:
        payload["guild_id"] = str(guild_id)
    if application_id is not None:
        payload["application_id"] = str(application_id)
    if webhook_id is not None:
        payload["webhook_id"] = str(webhook_id)
    if interaction_id is not None:
        by = dict(interaction_user) if interaction_user is not None else user(1)
        payload["interaction_metadata"] = {
            "id": str(interaction_id),
            "type": interaction_type,
            "user": by,
            "authorizing_integration_owners": {"0": str(guild_id)} if guild_id is not None else {"1": by["id"]},
        }
    return payload
