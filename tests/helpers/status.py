"""The status panel, driven through the harness: its buttons, posting it, reading and waiting on its edits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.harness import Harness, Recorded
from tests.helpers.bot import northca_bot
from tests.helpers.ids import ADMIN_M, GUILD


def set_id(code: str) -> str:
    """The custom id of the status panel's button for `code`."""
    return f"northca:status:set:{code}"


def fields(embed: dict[str, Any]) -> dict[str, str]:
    return {f["name"]: f["value"] for f in embed["fields"]}


def panel_fields(embed: dict[str, Any]) -> dict[str, str]:
    """The status panel's fields (one per code someone is on), named without the mark of their kind (🟢 🔵 ⚫ 🚨)."""
    return {f["name"].split(" ", 1)[1]: f["value"] for f in embed.get("fields", [])}


def _holds_for(predicate: Callable[[dict[str, str]], bool], shown: dict[str, str]) -> bool:
    try:
        return predicate(shown)
    except KeyError:  # a code nobody is on has no field (folded into one line)
        return False


async def settle(h: Harness) -> None:
    """Wait until shift listeners, Northca updates and panel renders have all run."""
    bot = northca_bot(h)
    await bot.shifts.drain()
    assert await bot.unit_status.coalescer.flush()
    assert await bot.unit_status.wait_rendered()


async def post_panel(h: Harness) -> dict[str, Any]:
    """/status panel as the admin; returns the panel message (as the fake holds it)."""
    first = await h.slash("status panel", member=ADMIN_M, guild_id=GUILD)
    assert first.callback_type == 5 and first.ephemeral
    done = await first.final()
    assert done.ephemeral and "Status panel posted" in done.content
    [panel] = await northca_bot(h).unit_status.panels(GUILD)
    message: dict[str, Any] = h.fake.messages[panel.message_id]
    return message


async def wait_panel_edit(
    h: Harness, message_id: int, predicate: Callable[[dict[str, str]], bool], since: int = 0
) -> Recorded:
    """The first successful edit of the panel (from the `since`-th request on) whose fields match."""

    def matches(rec: Recorded) -> bool:
        return (
            rec.method == "PATCH"
            and rec.path.endswith(f"/messages/{message_id}")
            and rec.ok
            and _holds_for(predicate, panel_fields((rec.json.get("embeds") or [{"fields": []}])[0]))
        )

    return await h.fake.wait_for(matches, timeout=10, since=since)
