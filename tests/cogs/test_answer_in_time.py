"""Answers inside Discord's three seconds, whatever the database does: a command, button or form whose handler has
not answered within `DEFER_AFTER_SECONDS` is deferred by the framework (one rule, in bot/discord/interactions.py),
and the
handler's answer then comes as an edit or a followup. Driven through the harness against a real SQLite file that a
second connection keeps write-locked (`BEGIN IMMEDIATE`), as another process or a backup would."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
from pathlib import Path

import discord
import pytest

from bot.discord.interactions import GUARDED, POSTED_PUBLICLY
from tests.harness import FakeTimeout, Harness, Recorded
from tests.helpers.ids import ADMIN_M, GUILD

pytestmark = [pytest.mark.asyncio, pytest.mark.sqlite_only("a second SQLite connection holds the write lock")]

# Longer than the 1.5 s rule, shorter than the bot's 5 s busy timeout: the write waits, it does not fail.
LOCK_HELD_UP_TO = 4.0


class WriteLock:
    """Another connection to the bot's SQLite file holding its write lock (`BEGIN IMMEDIATE`) until released."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("BEGIN IMMEDIATE")

    @property
    def held(self) -> bool:
        return self.conn.in_transaction

    def release(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")
        self.conn.close()


async def first_callback_while_locked(h: Harness, since: int, lock: WriteLock) -> tuple[Recorded | None, bool]:
    """The interaction's first callback if it came while the lock is held (up to LOCK_HELD_UP_TO s), and whether
    the lock was still held then; the lock is released after, either way."""
    try:
        rec = await h.fake.wait_for(
            lambda r: r.method == "POST" and r.path.endswith("/callback"), LOCK_HELD_UP_TO, since=since
        )
        return rec, lock.held
    except FakeTimeout:
        return None, False
    finally:
        lock.release()


async def audit_rows(h: Harness, key: str) -> int:
    rows = await h.bot.db.fetchall(
        "SELECT COUNT(*) FROM settings_audit WHERE guild_id = ? AND setting_key = ?", (GUILD, key)
    )
    return int(rows[0][0])


async def test_settings_command_behind_a_locked_database_is_deferred_in_time_then_edited_with_the_result(
    start_bot, db_path: Path
):
    h = await start_bot()
    lock = WriteLock(db_path)
    since = len(h.fake.requests)
    injected = time.monotonic()
    running = asyncio.create_task(h.slash("settings", sub="roster", member=ADMIN_M, reminder_minutes=45))
    callback, lock_held = await first_callback_while_locked(h, since, lock)
    reply = await running

    assert callback is not None, f"no answer within {LOCK_HELD_UP_TO} s while the database was locked"
    assert lock_held, "the answer came only after the database was free"
    assert reply.callback_type == 5, f"expected a deferral (thinking…), got {reply!r}"
    assert reply.ephemeral
    took = callback.time - injected
    print(f"\nfirst answer {took:.2f} s after the interaction")
    final = await reply.final()
    assert "reminded 45 minutes before their shifts" in final.content, final
    assert final.ephemeral
    assert h.bot.settings.get(GUILD).roster_reminder_minutes == 45
    assert await audit_rows(h, "roster.reminder_minutes") == 1


async def test_settings_button_behind_a_locked_database_is_acknowledged_in_time_then_its_message_edited(
    start_bot, db_path: Path
):
    h = await start_bot()
    await h.slash("settings", sub="roster", member=ADMIN_M, reminder_minutes=45)
    asking = await h.slash("settings", sub="reset", member=ADMIN_M)
    confirm = next(c for c in asking.custom_ids if re.fullmatch(r"northca:settings:confirm:reset", c))

    lock = WriteLock(db_path)
    since = len(h.fake.requests)
    injected = time.monotonic()
    running = asyncio.create_task(h.click(confirm, message=asking, member=ADMIN_M))
    callback, lock_held = await first_callback_while_locked(h, since, lock)
    reply = await running

    assert callback is not None, f"no answer within {LOCK_HELD_UP_TO} s while the database was locked"
    assert lock_held, "the answer came only after the database was free"
    assert reply.callback_type == 6, f"expected the click acknowledged (deferred update), got {reply!r}"
    print(f"\nclick acknowledged {callback.time - injected:.2f} s after the press")
    final = await reply.final()
    # The handler's edit reaches the message the button is on (not a new message).
    assert final.kind == "edit" and "Every setting is back to its default" in final.content, final
    assert final.message is not None and asking.message is not None
    assert final.message["id"] == asking.message["id"]
    assert final.custom_ids == []
    assert h.bot.settings.get(GUILD).roster_reminder_minutes != 45
    assert await audit_rows(h, "roster.reminder_minutes") == 2  # the set, then the one reset


async def test_a_public_answer_after_the_frameworks_private_deferral_is_posted_for_everyone(start_bot, db_path: Path):
    """/loa request with no reports channel answers publicly (supervisors decide from it): deferred privately by
    the framework, the request still goes out for everyone, and the private placeholder says so."""
    h = await start_bot()
    lock = WriteLock(db_path)
    since = len(h.fake.requests)
    running = asyncio.create_task(
        h.slash("loa request", member=ADMIN_M, start="tomorrow", end="tomorrow", reason="family")
    )
    callback, lock_held = await first_callback_while_locked(h, since, lock)
    reply = await running

    assert callback is not None and lock_held, "no answer while the database was locked"
    assert reply.callback_type == 5 and reply.ephemeral
    placeholder = await reply.followup()
    public = await reply.followup()
    assert placeholder.kind == "edit" and placeholder.content == POSTED_PUBLICLY
    assert public.kind == "followup" and not public.ephemeral, public
    assert public.embeds and public.custom_ids, "the request with its Approve / Deny buttons"
    rows = await h.bot.db.fetchall("SELECT COUNT(*) FROM leaves WHERE guild_id = ?", (GUILD,))
    assert rows[0][0] == 1


# --- one rule for every command, button and form ---------------------------------------------------


def _subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_subclasses(sub))
    return found


async def test_every_button_select_and_form_of_the_cogs_runs_under_the_rule(start_bot):
    h = await start_bot()  # loads every cog, hence every button and form class
    assert h.bot.cogs
    items = [c for c in _subclasses(discord.ui.DynamicItem) if c.__module__.startswith("cogs.")]
    forms = [c for c in _subclasses(discord.ui.Modal) if c.__module__.startswith("cogs.")]
    assert len(items) > 20 and forms
    unguarded = [f"{c.__module__}.{c.__qualname__}.callback" for c in items if not getattr(c.callback, GUARDED, False)]
    unguarded += [
        f"{c.__module__}.{c.__qualname__}.on_submit" for c in forms if not getattr(c.on_submit, GUARDED, False)
    ]
    assert unguarded == [], "wrap these in bot.interactions.guarded"


async def test_cogs_answer_only_through_the_helpers_that_share_the_rules_lock():
    """A direct `interaction.response.*` could race the framework's deferral (Discord refuses a second first
    answer); the helpers in bot/discord/interactions.py take the interaction's lock."""
    root = Path(__file__).resolve().parents[2] / "cogs"
    direct = re.compile(r"\binteraction\.(response\.|followup\.|edit_original_response\b)")
    found = [
        f"{path.relative_to(root.parent)}:{n}"
        for path in sorted(root.rglob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if direct.search(line)
    ]
    assert found == []


async def test_several_slow_commands_at_once_are_each_deferred_in_time_and_an_answered_one_never_is(
    start_bot, db_path: Path
):
    """The deadlines of all interactions share one queue and one timer (bot/discord/interactions.py): each slow command
    is still deferred within the rule, and a command answered at once gets no deferral when its deadline passes."""
    h = await start_bot()
    quick = await h.slash("settings", sub="roster", member=ADMIN_M, reminder_minutes=30)
    assert quick.callback_type == 4 and "30 minutes" in quick.content, quick
    quick_callbacks = [r for r in h.fake.requests if r.method == "POST" and r.path.endswith("/callback")]

    lock = WriteLock(db_path)
    since = len(h.fake.requests)
    injected = time.monotonic()
    running = [
        asyncio.create_task(h.slash("settings", sub="roster", member=ADMIN_M, reminder_minutes=minutes))
        for minutes in (40, 45, 50)
    ]
    try:
        deadline = injected + LOCK_HELD_UP_TO
        while time.monotonic() < deadline:
            callbacks = [r for r in h.fake.requests[since:] if r.method == "POST" and r.path.endswith("/callback")]
            if len(callbacks) == 3:
                break
            await asyncio.sleep(0.05)
        held = lock.held
    finally:
        lock.release()
    replies = await asyncio.gather(*running)

    assert held and len(callbacks) == 3, f"{len(callbacks)} of 3 slow commands answered while the database was locked"
    assert all(r.callback_type == 5 and r.ephemeral for r in replies), replies
    finals = [await r.final() for r in replies]
    assert sorted(int(m) for f in finals for m in re.findall(r"reminded (\d+) minutes", f.content)) == [40, 45, 50]
    # The quick command's deadline passed long ago: it was answered once, never deferred afterwards.
    after = [r for r in h.fake.requests if r.method == "POST" and r.path.endswith("/callback")]
    assert len(after) == len(quick_callbacks) + 3
