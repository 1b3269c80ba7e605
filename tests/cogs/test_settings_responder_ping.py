"""Panic alerts ping the responder role, which Discord delivers only when the role is mentionable or
the bot has Mention Everyone; /settings show says so next to the responder role when the bot can see it cannot."""

from __future__ import annotations

import pytest

from bot.core.settings import RoleFacts
from tests.harness import builders
from tests.helpers.ids import ADMIN, GUILD
from tests.helpers.settings import admin

pytestmark = pytest.mark.asyncio

RESPONDERS = 920000000000000001
MENTION_EVERYONE = 1 << 17
WARNING = "Panic alerts will not ping this role"


async def responder_field(start_bot, *, mentionable: bool, me_permissions: int = builders.DEFAULT_APP_PERMISSIONS):
    h = await start_bot()
    h.add_guild(
        GUILD,
        owner_id=ADMIN,
        roles=[builders.role(RESPONDERS, "Responders", position=1, mentionable=mentionable)],
        me_permissions=me_permissions,
    )
    await h.bot.settings.set_role(GUILD, ADMIN, "responder", RoleFacts(RESPONDERS, "Responders"))
    fields = {f["name"]: f["value"] for f in (await admin(h, "settings show")).embeds[0]["fields"]}
    return next(v for k, v in fields.items() if k.startswith("Responder role"))


async def test_settings_show_warns_when_the_responder_role_cannot_be_pinged(start_bot):
    value = await responder_field(start_bot, mentionable=False)
    assert value.startswith(f"<@&{RESPONDERS}>")
    assert WARNING in value and "Mention Everyone" in value and "@mention this role" in value


async def test_no_warning_for_a_mentionable_role(start_bot):
    assert WARNING not in await responder_field(start_bot, mentionable=True)


async def test_no_warning_when_the_bot_has_mention_everyone(start_bot):
    perms = builders.DEFAULT_APP_PERMISSIONS | MENTION_EVERYONE
    assert WARNING not in await responder_field(start_bot, mentionable=False, me_permissions=perms)
