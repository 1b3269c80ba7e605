"""What the bot posted on the fake Discord: shift-log lines, a channel's messages, role changes."""

from __future__ import annotations

import re

from tests.harness import Harness, Recorded
from tests.helpers.ids import LOG_CH


async def log_line(h: Harness, pattern: str, since: int = 0, channel_id: int = LOG_CH) -> str:
    """The first line posted in the shift log (from the `since`-th request on) matching `pattern`; waits for it."""
    rec = await h.fake.wait_for(
        lambda r: re.search(pattern, (r.json or {}).get("content", "")) is not None,
        method="POST",
        path=rf"^/channels/{channel_id}/messages$",
        since=since,
    )
    return str(rec.json["content"])


def posts_to(h: Harness, channel_id: int, since: int = 0) -> list[Recorded]:
    """The messages the bot posted in `channel_id` (from the `since`-th request on)."""
    return [r for r in h.fake.find("POST", rf"^/channels/{channel_id}/messages$") if r.seq >= since and r.ok]


def description(rec: Recorded) -> str:
    """The description of a posted message's first embed ("" without one)."""
    embeds = (rec.json or {}).get("embeds") or []
    return str(embeds[0].get("description", "")) if embeds else ""


def role_changes(h: Harness, member_id: int, role_id: int, method: str) -> list[Recorded]:
    """The bot's PUTs (or DELETEs) of `role_id` on `member_id`."""
    return h.fake.find(method, rf"^/guilds/\d+/members/{member_id}/roles/{role_id}$")
