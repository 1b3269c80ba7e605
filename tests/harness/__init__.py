"""Offline Discord harness: a fake REST API plus helpers that drive a real discord.py bot.

By role: fake_api.py (the fake REST server) with discord_routes.py (what it answers by itself)
and limits.py (Discord's message limits it enforces); recorded.py (what a test reads back:
Recorded, InteractionContext, Reply); harness.py (the user actions: Harness.slash/click/
autocomplete/submit_modal) with gateway.py (what the gateway would do; GatewayDiscord: a fake
gateway websocket, one socket per shard, for bots that connect); builders/ (payloads).
The Discord facts all of it relies on are in README.md.

Typical use::

    async with FakeDiscord() as fake:
        bot = MyBot()
        await bot.login("fake-token")            # against the fake, never connect()
        h = Harness(bot, fake)
        h.add_guild(GUILD, owner_id=OWNER, roles=[role(DUTY, "On Duty", position=1)])
        m = member(USER, permissions=SEND_MESSAGES)
        r = await (await h.slash("shift start", member=m, department="Patrol")).final()
        assert r.ephemeral and "started" in r.content
        r2 = await h.click(r.custom_ids[0], member=m, message=r)
        ...
        await bot.close()
"""

from .builders import (
    DEFAULT_APP_PERMISSIONS,
    ChannelOption,
    Opt,
    RoleOption,
    UserOption,
    autocomplete_payload,
    channel,
    click_payload,
    guild_payload,
    member,
    message_payload,
    modal_submit_payload,
    role,
    slash_payload,
    snowflake,
    user,
)
from .fake_api import FakeDiscord, Hold, Redirect
from .gateway import GatewayDiscord
from .harness import Harness
from .oauth import FakeOAuth
from .recorded import FakeTimeout, InteractionContext, NoResponse, Recorded, Reply

__all__ = [
    "DEFAULT_APP_PERMISSIONS",
    "ChannelOption",
    "FakeDiscord",
    "FakeOAuth",
    "FakeTimeout",
    "GatewayDiscord",
    "Harness",
    "Hold",
    "InteractionContext",
    "NoResponse",
    "Opt",
    "Recorded",
    "Redirect",
    "Reply",
    "RoleOption",
    "UserOption",
    "autocomplete_payload",
    "channel",
    "click_payload",
    "guild_payload",
    "member",
    "message_payload",
    "modal_submit_payload",
    "role",
    "slash_payload",
    "snowflake",
    "user",
]
