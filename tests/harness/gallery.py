"""Every message of a scenario run, drawn: one page to look at the whole bot.

    python -m tests.harness.gallery [OUT_DIR]        # default: build/gallery (git-ignored)

boots the real `NorthcaBot` (every cog) against the fake Discord (tests/harness) and a local Northca sandbox on
loopback, and plays a session as an admin, a supervisor and officers would: the settings, the status panel, a
shift panel pressed through on duty, break and off duty, status buttons, a panic with its confirm, a call, a
leave request and its approval, the leaderboard. After each step it draws every message Discord would show that
the step created or changed (channel posts, DMs, private answers, edits), in Discord's dark theme at desktop
(720 px) and phone (390 px) widths, and writes `index.html` listing the steps in order with their pictures. A
step that fails is shown as failed on the page (and makes the run exit non-zero), so a broken flow is seen,
not hidden. Buttons are pressed by their label as a member would, never by a custom id typed here, so the
gallery follows the panels as they change.
"""

from __future__ import annotations

import asyncio
import html
import json
import sys
import tempfile
import traceback
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.discord.bot import NorthcaBot
from bot.northca.sandbox import NorthcaSandbox, SandboxConfig, SandboxMdt
from tests.harness import FakeDiscord, Harness, builders
from tests.harness.recorded import walk_components
from tests.harness.render import draw_message
from tests.helpers.bot import link_guild, make_config
from tests.helpers.ids import ADMIN, ADMIN_M, GUILD, KEY, MDT, MEMBER_PERMS, OFFICER, OFFICER_M, OWNER
from tests.helpers.status import settle

WIDTHS = {"desktop": 720, "phone": 390}
LOADING = 1 << 7
SECOND = 444444444444444402
SECOND_M = builders.member(SECOND, permissions=MEMBER_PERMS, username="riley", nick="Sgt. Riley")
NAMES = {ADMIN: "admin", OFFICER: "Ofc. Bubbleton", SECOND: "Sgt. Riley", OWNER: "owner"}


@dataclass
class Shot:
    """One message as it looked after a step."""

    message_id: int
    where: str
    message: dict[str, Any]


@dataclass
class Step:
    title: str
    shots: list[Shot] = field(default_factory=list)
    error: str | None = None


class Session:
    """The bot, the fake Discord and what each step changed."""

    def __init__(self, bot: NorthcaBot, fake: FakeDiscord, h: Harness) -> None:
        self.bot, self.fake, self.h = bot, fake, h
        self.steps: list[Step] = []
        self._seen: dict[int, str] = {}
        self.channels: dict[int, str] = {}

    def _where(self, message: Mapping[str, Any]) -> str:
        flags = int(message.get("flags") or 0)
        channel_id = int(message.get("channel_id") or 0)
        if channel_id in self.fake.dm_channels:
            return f"DM to {NAMES.get(self.fake.dm_channels[channel_id], 'a member')}"
        meta = message.get("interaction_metadata") or message.get("interaction") or {}
        user = int((meta.get("user") or {}).get("id") or 0)
        if flags & 64:
            return f"only {NAMES.get(user, 'the member')} sees this"
        return f"#{self.channels.get(channel_id, 'channel')}"

    def snapshot(self) -> list[Shot]:
        """The messages created or changed since the last snapshot."""
        shots: list[Shot] = []
        for mid in sorted(self.fake.messages):
            message = self.fake.messages[mid]
            flags = int(message.get("flags") or 0)
            body = json.dumps(
                {k: message.get(k) for k in ("content", "embeds", "components", "flags")}, sort_keys=True, default=str
            )
            if self._seen.get(mid) == body:
                continue
            self._seen[mid] = body
            if flags & LOADING and not message.get("content") and not message.get("embeds"):
                continue  # Discord's "thinking…" placeholder: its edit is drawn when it comes
            shots.append(Shot(mid, self._where(message), dict(message)))
        return shots

    async def step(self, title: str, action: Callable[[], Awaitable[None]]) -> None:
        step = Step(title)
        try:
            await action()
            await settle(self.h)
        except Exception as exc:  # a failed step is shown, and the run fails at the end
            step.error = "".join(traceback.format_exception_only(exc)).strip()[:500]
        step.shots = self.snapshot()
        self.steps.append(step)

    def message(self, reply_or_id: Any) -> dict[str, Any]:
        mid = reply_or_id if isinstance(reply_or_id, int) else int(reply_or_id.message["id"])
        return self.fake.messages[mid]

    async def press(self, message: Any, label: str, member: Mapping[str, Any]) -> Any:
        """Press the button whose label starts with `label` (case-insensitive), as `member`. `message`: a message
        (its newest state is read from the fake) or the harness's reply to an interaction."""
        if isinstance(message, Mapping):
            target: Any = self.fake.messages.get(int(message["id"]), message)
            components = target.get("components")
        else:
            target, components = message, message.components
        for c in walk_components(components):
            if c.get("type") == 2 and str(c.get("label") or "").lower().startswith(label.lower()):
                if c.get("disabled"):
                    raise AssertionError(f"the button {c.get('label')!r} is disabled")
                reply = await self.h.click(c["custom_id"], member=member, guild_id=GUILD, message=target)
                return await reply.final()
        labels = [c.get("label") for c in walk_components(components) if c.get("type") == 2]
        raise AssertionError(f"no button labelled {label!r} (buttons: {labels})")


async def play(session: Session, sandbox: NorthcaSandbox) -> None:
    """The scenario: what an admin, a supervisor and two officers do on a session night."""
    bot, h = session.bot, session.h
    state: dict[str, Any] = {}

    def with_button(label: str) -> dict[str, Any]:
        """The newest message offering a button whose label starts with `label`."""
        found = [
            m
            for m in session.fake.messages.values()
            if any(str(c.get("label") or "").lower().startswith(label) for c in walk_components(m.get("components")))
        ]
        if not found:
            raise AssertionError(f"no message offers a {label!r} button")
        return found[-1]

    async def slash(command: str, member: Mapping[str, Any], /, **options: Any) -> Any:
        reply = await h.slash(command, member=member, guild_id=GUILD, **options)
        return await reply.final()

    async def link() -> None:
        await link_guild(bot, sandbox)

    async def channels() -> None:
        for channel_id, name in session.channels.items():
            option = builders.ChannelOption(builders.channel(channel_id, guild_id=GUILD, name=name))
            await slash("settings channel", ADMIN_M, kind=name, channel=option)

    async def settings_show() -> None:
        await slash("settings show", ADMIN_M)

    async def profiles() -> None:
        await slash("profile set", OFFICER_M, callsign="ADAM-12", name="Ofc. Bubbleton")
        await slash("profile set", SECOND_M, callsign="LINCOLN-3", name="Sgt. Riley")

    async def status_panel() -> None:
        await slash("status panel", ADMIN_M)
        [panel] = await bot.unit_status.panels(GUILD)
        state["status"] = session.fake.messages[panel.message_id]

    async def shift_panel() -> None:
        reply = await slash("shift panel", OFFICER_M)
        state["panel"] = session.message(reply)

    async def on_duty() -> None:
        await session.press(state["panel"], "On duty", OFFICER_M)

    async def second_on_duty() -> None:
        await slash("shift start", SECOND_M)

    async def status_busy() -> None:
        await session.press(state["status"], "10-6", SECOND_M)

    async def take_break() -> None:
        await session.press(state["panel"], "Break", OFFICER_M)

    async def end_break() -> None:
        await session.press(state["panel"], "End break", OFFICER_M)

    async def panic() -> None:
        reply = await slash("panic", OFFICER_M, location="Route 68 and Senora Way")
        await session.press(reply, "Confirm", OFFICER_M)

    async def respond() -> None:
        await session.press(with_button("respond"), "Respond", SECOND_M)

    async def clear_panic() -> None:
        await session.press(with_button("clear"), "Clear", ADMIN_M)

    async def leave_request() -> None:
        today = datetime.fromtimestamp(bot.clock() / 1000, UTC).date()
        start, end = today + timedelta(days=3), today + timedelta(days=5)
        await slash("loa request", SECOND_M, start=start.isoformat(), end=end.isoformat(), reason="Exams")

    async def leave_approve() -> None:
        await session.press(with_button("approve"), "Approve", ADMIN_M)

    async def off_duty() -> None:
        await session.press(state["panel"], "Off duty", OFFICER_M)

    async def leaderboard() -> None:
        await slash("shift leaderboard", ADMIN_M)

    async def shift_status() -> None:
        await slash("shift status", OFFICER_M)

    for title, action in [
        ("The owner links the server to the Northca MDT", link),
        ("The admin sets the bot's channels (/settings channel)", channels),
        ("The admin reads /settings show", settings_show),
        ("Two officers set their callsigns with /profile set", profiles),
        ("The admin posts the status panel (/status panel)", status_panel),
        ("An officer opens their shift panel (/shift panel)", shift_panel),
        ("…and presses On duty", on_duty),
        ("A sergeant goes on duty with /shift start", second_on_duty),
        ("The sergeant presses 10-6 on the status panel", status_busy),
        ("The officer takes a break from the panel", take_break),
        ("…and ends the break", end_break),
        ("The officer presses /panic and confirms", panic),
        ("The sergeant responds to the panic", respond),
        ("The admin clears the panic", clear_panic),
        ("The sergeant asks for leave (/loa request)", leave_request),
        ("The admin approves it", leave_approve),
        ("The officer checks their time (/shift status)", shift_status),
        ("The officer goes off duty from the panel", off_duty),
        ("The admin reads the leaderboard (/shift leaderboard)", leaderboard),
    ]:
        await session.step(title, action)


async def capture(workdir: Path) -> list[Step]:
    sandbox = NorthcaSandbox(
        SandboxConfig(partner_key=KEY, auto_approve_after=None, mdts=[SandboxMdt(id=MDT, owner_discord_id=str(OWNER))])
    )
    await sandbox.start()
    try:
        async with FakeDiscord() as fake:
            bot = NorthcaBot(make_config(sandbox, workdir / "bot.sqlite3"))
            await bot.__aenter__()
            try:
                await bot.login("gallery-bot-token")
                h = Harness(bot, fake)
                channels = [
                    builders.channel(builders.snowflake(), guild_id=GUILD, name=name)
                    for name in ("shift-log", "reports", "alerts", "dispatch")
                ]
                h.add_guild(
                    GUILD,
                    name="Test County RP",
                    owner_id=ADMIN,
                    members=[ADMIN_M, OFFICER_M, SECOND_M],
                    channels=channels,
                )
                session = Session(bot, fake, h)
                session.channels.update({int(c["id"]): c["name"] for c in channels})
                await play(session, sandbox)
                h.close()
            finally:
                await bot.close()
    finally:
        await sandbox.stop()
    return session.steps


def write(out: Path, steps: Sequence[Step], now: datetime) -> Path:
    """The pictures and index.html; returns the index."""
    out.mkdir(parents=True, exist_ok=True)
    parts = [
        "<!doctype html><meta charset=utf-8><title>Northca Duty: every message of a session</title>",
        "<style>body{background:#1e1f22;color:#dbdee1;font-family:sans-serif;margin:24px}"
        "figure{display:inline-block;margin:0 16px 16px 0;vertical-align:top}"
        "figcaption{color:#949ba4;font-size:13px}img{display:block;border-radius:6px}"
        ".failed{color:#f23f43}</style>",
        "<h1>Every message of a session</h1>",
    ]
    for n, step in enumerate(steps, 1):
        parts.append(f"<h2 id=step-{n}>{n}. {html.escape(step.title)}</h2>")
        if step.error:
            parts.append(f"<p class=failed>This step failed: {html.escape(step.error)}</p>")
        if not step.shots and not step.error:
            parts.append("<p>Nothing new on screen.</p>")
        for k, shot in enumerate(step.shots, 1):
            for label, width in WIDTHS.items():
                name = f"step{n:02d}-{k}-{label}.png"
                drawn = draw_message(shot.message, now=now, names=NAMES, width=width)
                drawn.image.save(out / name, optimize=True)
                alt = html.escape(" / ".join(t for t in drawn.texts if t)[:300])
                parts.append(
                    f'<figure><img src={name} width={drawn.image.width // 2} alt="{alt}">'
                    f"<figcaption>{html.escape(shot.where)} · {label}</figcaption></figure>"
                )
    index = out / "index.html"
    index.write_text("\n".join(parts) + "\n", encoding="utf-8")
    return index


def run(out: Path) -> tuple[Path, list[Step]]:
    with tempfile.TemporaryDirectory() as workdir:
        steps = asyncio.run(capture(Path(workdir)))
    return write(out, steps, datetime.now(UTC)), steps


def main(argv: Sequence[str] = sys.argv[1:]) -> int:
    out = Path(argv[0]) if argv else Path(__file__).resolve().parents[2] / "build" / "gallery"
    index, steps = run(out)
    failed = [s for s in steps if s.error]
    shots = sum(len(s.shots) for s in steps)
    print(f"{index}: {len(steps)} steps, {shots} messages drawn at {len(WIDTHS)} widths, {len(failed)} failed")
    for s in failed:
        print(f"  failed: {s.title}: {s.error}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
