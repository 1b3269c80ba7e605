"""Application emojis through the offline Discord: uploaded at start when missing, by the
hash of their picture (like the slash commands), not again on the next start, shown on the "On duty now" board;
Unicode when Discord refuses them, and a start never fails for it."""

from __future__ import annotations

import base64
import io
import re
from typing import Any

from PIL import Image

from bot.discord.app_emojis import SPECS
from tests.helpers.ids import ADMIN_M, GUILD, LOG_CH, OFFICER, OFFICER_M
from tests.helpers.shift_duty import boot_shift_duty

EMOJIS = r"^/applications/\d+/emojis$"
NAME = re.compile(r"^nc_[a-z_]+_[0-9a-f]{8}$")


async def board_text(h: Any) -> str:
    """Posts a board (the officer on duty) and returns its text."""
    await h.slash("shift", sub="start", member=OFFICER_M, guild_id=GUILD, department="EMS")
    since = len(h.fake.requests)
    await h.slash("shift", sub="board", member=ADMIN_M, guild_id=GUILD, channel_id=LOG_CH)
    rec = await h.fake.wait_for(
        lambda r: bool((r.json or {}).get("embeds")), method="POST", path=rf"^/channels/{LOG_CH}/messages$", since=since
    )
    return str(rec.json["embeds"][0]["description"])


async def test_emojis_are_uploaded_once_by_picture_hash_and_shown_on_the_board(start_bot, sandbox):
    h = await boot_shift_duty(start_bot, sandbox)
    uploads = h.fake.find("POST", EMOJIS)
    assert len(uploads) == len(SPECS) and all(r.status == 201 for r in uploads)
    names = {r.json["name"] for r in uploads}
    assert all(NAME.match(n) for n in names) and {n.rsplit("_", 1)[0] for n in names} == {f"nc_{s.key}" for s in SPECS}
    picture = uploads[0].json["image"]
    assert picture.startswith("data:image/png;base64,")
    assert Image.open(io.BytesIO(base64.b64decode(picture.split(",", 1)[1]))).size == (128, 128)

    on_duty = next(e for e in h.fake.app_emojis.values() if e["name"].startswith("nc_on_duty_"))
    text = await board_text(h)
    assert text.startswith(f"<:{on_duty['name']}:{on_duty['id']}> <@{OFFICER}> · EMS · since <t:")

    # The next start finds them all: one listing, nothing uploaded again.
    await h.bot.close()
    h.close()
    down = len(h.fake.requests)
    h2 = await boot_shift_duty(start_bot, sandbox)
    assert [r.method for r in h2.fake.requests[down:] if re.match(EMOJIS, r.path)] == ["GET"]
    assert h2.bot.app_emojis.text("on_duty") == f"<:{on_duty['name']}:{on_duty['id']}>"


async def test_emojis_refused_by_discord_leave_the_unicode_ones_and_the_bot_starts(start_bot, sandbox, fake_discord):
    fake_discord.fail_next(EMOJIS, 403, times=len(SPECS) + 1, method="POST")
    h = await boot_shift_duty(start_bot, sandbox)
    assert h.fake.app_emojis == {}
    assert (await board_text(h)).startswith(f"🟢 <@{OFFICER}> · EMS · since <t:")
    assert h.bot.app_emojis.text("on_break") == "☕"
