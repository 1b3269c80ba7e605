"""Screenshots of the bot's panels for the README, drawn from what the real bot sent.

    python -m tests.harness.render [OUT_DIR]        # default: docs/images

boots the real `NorthcaBot` (every cog) against the fake Discord (tests/harness) and a local Northca sandbox on
loopback, links a server, puts four officers on duty with callsigns and statuses through real interactions,
posts the status panel (`/status panel`) and opens a shift panel (`/shift panel`), then draws the message bodies
the fake Discord captured (content, embeds, components JSON) into PNGs in Discord's dark theme with Pillow.
Nothing is staged by hand: a change to the panels' wording, fields or buttons changes the pictures the next time
this runs. The shifts keep wall-clock times (the shift service takes no clock), so each picture shows the time it
was drawn at; no test depends on that (tests/harness_selftest/test_render.py checks what is drawn, not when).

The drawing covers what the panels use: an embed (colour bar, title, description, inline and full-width fields,
footer), action rows of buttons in Discord's four colours, a select menu, the bits of Discord markdown the bot
writes (**bold**, `code`, escapes, <@user> mentions, <t:…> timestamps). Emoji are drawn from the font when it
has them, the coloured circles as circles, and others left out (no emoji font is assumed). `draw_message`
returns what it drew (`Drawn`), so a test checks the picture's content without OCR.
"""

from __future__ import annotations

import asyncio
import functools
import re
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from bot.core.timefmt import utcnow
from bot.discord.bot import NorthcaBot
from bot.northca.sandbox import NorthcaSandbox, SandboxConfig, SandboxMdt
from tests.harness import FakeDiscord, Harness, builders
from tests.helpers.bot import link_guild, make_config
from tests.helpers.ids import ADMIN, ADMIN_M, GUILD, KEY, MDT, MEMBER_PERMS, OWNER
from tests.helpers.status import settle

# --- Discord's dark theme -------------------------------------------------------------------------------------

BACKGROUND = (49, 51, 56)  # #313338, the chat
EMBED_BACKGROUND = (43, 45, 49)  # #2B2D31
CODE_BACKGROUND = (30, 31, 34)  # #1E1F22, also the select menu
HEADER_TEXT = (242, 243, 245)  # #F2F3F5: names, titles
TEXT = (219, 222, 225)  # #DBDEE1
MUTED = (148, 155, 164)  # #949BA4: timestamps, placeholders, footers
MENTION_TEXT = (201, 205, 251)  # #C9CDFB
MENTION_BACKGROUND = (60, 66, 112)
BLURPLE = (88, 101, 242)  # #5865F2
BUTTON_COLOURS = {  # Discord's button styles: 1 primary, 2 secondary, 3 success, 4 danger
    1: (88, 101, 242),
    2: (78, 80, 88),
    3: (36, 128, 70),
    4: (218, 55, 60),
}
CIRCLES = {"🟢": (35, 165, 90), "🔴": (218, 55, 60), "🟡": (240, 178, 50), "🚨": (218, 55, 60), "🔵": BLURPLE}

SCALE = 2  # drawn at twice Discord's CSS pixels, so the pictures stay sharp when GitHub scales them
WIDTH = 720  # the message column


def px(value: float) -> int:
    return round(value * SCALE)


@functools.lru_cache(maxsize=64)
def _font(size: int, *, bold: bool = False, mono: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """DejaVu when the system has it (Debian's fonts-dejavu-core), else Pillow's own font."""
    name = "DejaVuSansMono.ttf" if mono else "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for folder in ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/local/share/fonts"):
        path = Path(folder) / name
        if path.exists():
            return ImageFont.truetype(str(path), px(size))
    return ImageFont.load_default(size=px(size))


@dataclass(frozen=True)
class Style:
    size: int = 14
    colour: tuple[int, int, int] = TEXT
    bold: bool = False
    code: bool = False
    mention: bool = False

    def font(self) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
        return _font(self.size - 1 if self.code else self.size, bold=self.bold, mono=self.code)


@dataclass
class Drawn:
    """What was drawn: every text line (markdown resolved) and every button with its box and colour."""

    image: Image.Image
    texts: list[str] = field(default_factory=list)
    buttons: list[tuple[str, tuple[int, int, int, int], tuple[int, int, int]]] = field(default_factory=list)
    selects: list[str] = field(default_factory=list)


# --- Discord markdown, as far as the bot writes it ------------------------------------------------------------

_TOKEN = re.compile(
    r"\*\*(?P<bold>.+?)\*\*|`(?P<code>[^`]+)`|<@!?(?P<user>\d+)>|<@&(?P<role>\d+)>|<t:(?P<ts>-?\d+)(?::(?P<fmt>[tTdDfFR]))?>"
)
_ESCAPE = re.compile(r"\\([\\*_`~|>#\-\[\]()])")


def relative(seconds: float) -> str:
    """Discord's <t:…:R>: "in 5 minutes", "an hour ago"."""
    ago = seconds < 0
    s = abs(seconds)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        if s >= size or unit == "second":
            n = round(s / size)
            text = f"{'an' if unit == 'hour' else 'a'} {unit}" if n == 1 else f"{n} {unit}s"
            return f"{text} ago" if ago else f"in {text}"
    raise AssertionError("unreachable")


def timestamp(unix: int, fmt: str | None, now: datetime) -> str:
    at = datetime.fromtimestamp(unix, UTC)
    if fmt == "R":
        return relative((at - now).total_seconds())
    if fmt in ("t", "T"):
        return at.strftime("%H:%M" if fmt == "t" else "%H:%M:%S")
    if fmt in ("d", "D"):
        return at.strftime("%d/%m/%Y" if fmt == "d" else "%-d %B %Y")
    return at.strftime("%-d %B %Y %H:%M" if fmt in (None, "f") else "%A, %-d %B %Y %H:%M")


def segments(text: str, base: Style, now: datetime, names: Mapping[int, str]) -> list[tuple[str, Style]]:
    """`text` as runs of one style each."""
    out: list[tuple[str, Style]] = []
    last = 0
    for m in _TOKEN.finditer(text):
        if m.start() > last:
            out.append((_ESCAPE.sub(r"\1", text[last : m.start()]), base))
        if m["bold"] is not None:
            out.extend(segments(m["bold"], Style(base.size, HEADER_TEXT, True, base.code), now, names))
        elif m["code"] is not None:
            out.append((m["code"], Style(base.size, base.colour, False, True)))
        elif m["user"] is not None:
            out.append(("@" + names.get(int(m["user"]), "unknown-user"), Style(base.size, MENTION_TEXT, mention=True)))
        elif m["role"] is not None:
            out.append(("@role", Style(base.size, MENTION_TEXT, mention=True)))
        else:
            out.append((timestamp(int(m["ts"]), m["fmt"], now), Style(base.size, base.colour, code=False)))
        last = m.end()
    if last < len(text):
        out.append((_ESCAPE.sub(r"\1", text[last:]), base))
    return out


def _glyph(font: ImageFont.FreeTypeFont | ImageFont.ImageFont, ch: str) -> bytes:
    """The pixels of one character (any Pillow version): a character the font lacks draws its "notdef" box."""
    image = Image.new("L", (px(40), px(40)))
    ImageDraw.Draw(image).text((0, 0), ch, font=font, fill=255)
    return image.tobytes()


class Canvas:
    """A tall scratch image; `crop` keeps what was used."""

    def __init__(self, height: int = 1600, width: int = WIDTH) -> None:
        self.width = width
        self.image = Image.new("RGB", (px(width), px(height)), BACKGROUND)
        self.draw = ImageDraw.Draw(self.image)
        self.drawn = Drawn(self.image)
        self._notdef: dict[int, bytes] = {}

    def _has_glyph(self, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, ch: str) -> bool:
        key = id(font)
        if key not in self._notdef:
            self._notdef[key] = _glyph(font, "\U000f0000")
        return _glyph(font, ch) != self._notdef[key]

    def _width(self, text: str, style: Style) -> float:
        font = style.font()
        width = 0.0
        for ch in text:
            if ch in CIRCLES:
                width += px(style.size + 2)
            elif ord(ch) > 0xFFFF or ord(ch) in (0xFE0F, 0x200D):
                width += self.draw.textlength(ch, font=font) if self._has_glyph(font, ch) else 0
            else:
                width += self.draw.textlength(ch, font=font)
        pad = px(3) * 2 if style.code or style.mention else 0
        return width + pad

    def _put(self, x: float, y: float, text: str, style: Style) -> float:
        """Draw one run at (x, y) (top of the line); returns its width."""
        font = style.font()
        width = self._width(text, style)
        line = px(style.size * 1.375)
        if style.code or style.mention:
            fill = CODE_BACKGROUND if style.code else MENTION_BACKGROUND
            self.draw.rounded_rectangle((x, y + px(1), x + width, y + line - px(1)), radius=px(3), fill=fill)
            x += px(3)
        for ch in text:
            if ch in CIRCLES:
                d = px(style.size - 2)
                top = y + (line - d) / 2
                top += px(1.5)
                self.draw.ellipse((x + px(2), top, x + px(2) + d, top + d), fill=CIRCLES[ch], outline=TEXT, width=px(1))
                x += px(style.size + 2)
            elif (ord(ch) > 0xFFFF or ord(ch) in (0xFE0F, 0x200D)) and not self._has_glyph(font, ch):
                continue
            else:
                self.draw.text((x, y + px(style.size * 0.2)), ch, font=font, fill=style.colour)
                x += self.draw.textlength(ch, font=font)
        return width

    def paragraph(
        self, text: str, x: float, y: float, width: float, base: Style, now: datetime, names: Mapping[int, str]
    ) -> float:
        """Markdown text wrapped into `width`; returns the y below it."""
        line_height = px(base.size * 1.375)
        for raw_line in text.split("\n"):
            runs = segments(raw_line, base, now, names)
            self.drawn.texts.append("".join(t for t, _ in runs))
            cursor = x
            for run_text, style in runs:
                words = [run_text] if style.code or style.mention else re.split(r"(?<= )", run_text)
                for word in words:
                    w = self._width(word, style)
                    if cursor + w > x + width and cursor > x:
                        y += line_height
                        cursor = x
                        word = word.lstrip(" ")
                        w = self._width(word, style)
                    self._put(cursor, y, word, style)
                    cursor += w
            y += line_height
        return y

    def crop(self, bottom: float) -> Image.Image:
        self.drawn.image = self.image.crop((0, 0, self.image.width, int(bottom)))
        return self.drawn.image


def _embed(
    canvas: Canvas, embed: Mapping[str, Any], x: float, y: float, now: datetime, names: Mapping[int, str]
) -> float:
    """One embed at (x, y), 520 wide at most; returns the y below it."""
    width = min(px(520), px(canvas.width) - x - px(16))
    inner_x, inner_w = x + px(16), width - px(32)
    top = y
    y += px(8)
    # Drawn twice: once to measure on a scratch canvas, once for real on the embed's background.
    scratch = Canvas(height=1200, width=canvas.width)
    for target in (scratch, canvas):
        cy = y
        if embed.get("title"):
            cy = target.paragraph(
                embed["title"], inner_x, cy + px(2), inner_w, Style(16, HEADER_TEXT, True), now, names
            )
        if embed.get("description"):
            cy = target.paragraph(embed["description"], inner_x, cy + px(4), inner_w, Style(14), now, names)
        fields = list(embed.get("fields") or [])
        i = 0
        while i < len(fields):
            row = [fields[i]]
            while row[-1].get("inline") and len(row) < 3 and i + len(row) < len(fields):
                if not fields[i + len(row)].get("inline"):
                    break
                row.append(fields[i + len(row)])
            if not row[0].get("inline"):
                row = row[:1]
            column = (inner_w - px(8) * (len(row) - 1)) / (len(row) if row[0].get("inline") else 1)
            bottoms = []
            for n, f in enumerate(row):
                fx = inner_x + n * (column + px(8))
                fy = target.paragraph(f["name"], fx, cy + px(8), column, Style(14, HEADER_TEXT, True), now, names)
                bottoms.append(target.paragraph(f["value"], fx, fy + px(2), column, Style(14), now, names))
            cy = max(bottoms)
            i += len(row)
        footer = (embed.get("footer") or {}).get("text")
        if footer:
            cy = target.paragraph(footer, inner_x, cy + px(8), inner_w, Style(12, TEXT), now, names)
        bottom = cy + px(16)
        if target is scratch:
            colour = embed.get("color")
            bar = ((colour >> 16) & 255, (colour >> 8) & 255, colour & 255) if colour is not None else (30, 31, 34)
            canvas.draw.rounded_rectangle((x, top, x + width, bottom), radius=px(4), fill=EMBED_BACKGROUND)
            canvas.draw.rounded_rectangle((x, top, x + px(4), bottom), radius=px(2), fill=bar)
    return bottom


def _components(canvas: Canvas, rows: Sequence[Mapping[str, Any]], x: float, y: float, right: float = 0) -> float:
    right = right or px(canvas.width - 16)
    for row in rows:
        cx = x
        height = px(32)
        for c in row.get("components", []):
            if c["type"] == 2:  # a button
                style = Style(14, (255, 255, 255))
                emoji = (c.get("emoji") or {}).get("name") or ""
                label = c.get("label") or ""
                text = f"{emoji} {label}".strip()
                w = canvas._width(text, style) + px(32)
                if cx > x and cx + w > right:  # Discord wraps a row's buttons on a narrow column
                    cx, y = x, y + height + px(8)
                colour = BUTTON_COLOURS.get(c.get("style", 2), BUTTON_COLOURS[2])
                if c.get("disabled"):  # Discord draws a disabled button at half opacity
                    colour = _half(colour)
                    style = Style(14, _half((255, 255, 255)))
                box = (round(cx), round(y), round(cx + w), round(y + height))
                canvas.draw.rounded_rectangle(box, radius=px(3), fill=colour)
                canvas._put(cx + px(16), y + (height - px(14 * 1.375)) / 2, text, style)
                canvas.drawn.buttons.append((label, box, colour))
                cx += w + px(8)
            elif c["type"] in (3, 5, 6, 7, 8):  # a select menu
                height = px(40)
                box = (round(cx), round(y), round(cx + px(400)), round(y + height))
                canvas.draw.rounded_rectangle(box, radius=px(4), fill=CODE_BACKGROUND)
                placeholder = c.get("placeholder") or "Make a selection"
                muted = _half(MUTED) if c.get("disabled") else MUTED
                canvas._put(cx + px(12), y + (height - px(14 * 1.375)) / 2, placeholder, Style(14, muted))
                chevron_x, chevron_y = box[2] - px(22), y + height / 2
                canvas.draw.line(
                    (
                        chevron_x,
                        chevron_y - px(3),
                        chevron_x + px(5),
                        chevron_y + px(2),
                        chevron_x + px(10),
                        chevron_y - px(3),
                    ),
                    fill=TEXT,
                    width=px(2),
                )
                canvas.drawn.selects.append(placeholder)
        y += height + px(8)
    return y


IS_COMPONENTS_V2 = 1 << 15


def _v2(
    canvas: Canvas,
    components: Sequence[Mapping[str, Any]],
    x: float,
    y: float,
    width: float,
    now: datetime,
    names: Mapping[int, str],
) -> float:
    """Discord's layout components (a message flagged IS_COMPONENTS_V2): containers with their accent bar, text
    displays, sections with a button or thumbnail beside their text, separators, and action rows inside."""
    for c in components:
        kind = c.get("type")
        if kind == 17:  # a container: drawn twice like an embed, to know its height before its background
            scratch = Canvas(height=2400, width=canvas.width)
            bottom = _v2(scratch, c.get("components") or [], x + px(16), y + px(12), width - px(32), now, names)
            bottom += px(12)
            canvas.draw.rounded_rectangle((x, y, x + width, bottom), radius=px(6), fill=EMBED_BACKGROUND)
            colour = c.get("accent_color")
            if colour is not None:
                bar = ((colour >> 16) & 255, (colour >> 8) & 255, colour & 255)
                canvas.draw.rounded_rectangle((x, y, x + px(4), bottom), radius=px(2), fill=bar)
            _v2(canvas, c.get("components") or [], x + px(16), y + px(12), width - px(32), now, names)
            y = bottom + px(8)
        elif kind == 10:  # a text display: markdown, headings as bold
            text = c.get("content") or ""
            for line in text.split("\n"):
                heading = re.match(r"^(#{1,3}) (.*)$", line)
                if heading:
                    size = {1: 20, 2: 17, 3: 15}[len(heading.group(1))]
                    y = canvas.paragraph(heading.group(2), x, y, width, Style(size, HEADER_TEXT, True), now, names)
                else:
                    small = line.startswith("-# ")
                    style = Style(12, MUTED) if small else Style(14)
                    y = canvas.paragraph(line[3:] if small else line, x, y, width, style, now, names)
            y += px(4)
        elif kind == 9:  # a section: text on the left, its accessory (a button) on the right
            accessory = c.get("accessory") or {}
            room = px(130) if accessory.get("type") == 2 else px(90) if accessory else 0
            top = y
            y = _v2(canvas, c.get("components") or [], x, y, width - room, now, names)
            if accessory.get("type") == 2:
                _components(canvas, [{"components": [accessory]}], x + width - room + px(8), top, right=x + width)
                y = max(y, top + px(40))
            elif accessory.get("type") == 11:  # a thumbnail
                canvas.draw.rounded_rectangle(
                    (x + width - px(80), top, x + width, top + px(80)), radius=px(6), fill=CODE_BACKGROUND
                )
                y = max(y, top + px(88))
        elif kind == 14:  # a separator
            gap = px(8 if c.get("spacing", 1) == 1 else 16)
            if c.get("divider", True):
                canvas.draw.line((x, y + gap / 2, x + width, y + gap / 2), fill=(63, 65, 71), width=px(1))
            y += gap
        elif kind == 1:  # an action row
            y = _components(canvas, [c], x, y + px(4), right=x + width)
        elif kind == 12:  # a media gallery
            canvas.draw.rounded_rectangle((x, y, x + width, y + px(160)), radius=px(6), fill=CODE_BACKGROUND)
            canvas._put(x + px(12), y + px(12), "(picture)", Style(12, MUTED))
            y += px(168)
    return y


def _half(colour: tuple[int, int, int]) -> tuple[int, int, int]:
    """`colour` at half opacity over the chat's background (how Discord shows a disabled component)."""
    return (
        (colour[0] + BACKGROUND[0]) // 2,
        (colour[1] + BACKGROUND[1]) // 2,
        (colour[2] + BACKGROUND[2]) // 2,
    )


def draw_message(
    message: Mapping[str, Any],
    *,
    now: datetime,
    names: Mapping[int, str],
    author: str = "Northca Duty",
    used_by: tuple[str, str] | None = None,
    width: int = WIDTH,
) -> Drawn:
    """A message (Discord's JSON) as Discord's dark theme shows it. `used_by`: (member, command) of the slash
    command the message answers; an ephemeral message gets Discord's "Only you can see this" line."""
    canvas = Canvas(height=4000, width=width)
    x, y = float(px(72)), float(px(16))
    if used_by is not None:
        member, command = used_by
        canvas.draw.line((px(36), px(26), px(36), px(18), px(64), px(18)), fill=(78, 80, 88), width=px(2))
        canvas._put(px(72), px(8), f"{member} used {command}", Style(12, MUTED))
        y += px(22)
    # The avatar: a blurple circle with the bot's initial.
    canvas.draw.ellipse((px(16), y + px(2), px(56), y + px(42)), fill=BLURPLE)
    initial = Style(18, (255, 255, 255), True)
    iw = canvas._width(author[0], initial)
    canvas._put(px(36) - iw / 2, y + px(8), author[0], initial)
    name_w = canvas._put(x, y, author, Style(16, HEADER_TEXT, True))
    badge_x = x + name_w + px(6)
    canvas.draw.rounded_rectangle((badge_x, y + px(4), badge_x + px(30), y + px(20)), radius=px(3), fill=BLURPLE)
    canvas._put(badge_x + px(4), y + px(2.5), "APP", Style(10, (255, 255, 255), True))
    canvas._put(badge_x + px(38), y + px(2), "Today at " + now.strftime("%H:%M"), Style(12, MUTED))
    y += px(24)
    if message.get("content"):
        y = canvas.paragraph(message["content"], x, y, px(width - 90), Style(15), now, names)
    for embed in message.get("embeds") or []:
        y = _embed(canvas, embed, x, y + px(4), now, names)
    if int(message.get("flags") or 0) & IS_COMPONENTS_V2:
        y = _v2(canvas, message.get("components") or [], x, y + px(4), px(width - 90), now, names)
    else:
        y = _components(canvas, message.get("components") or [], x, y + px(8))
    if int(message.get("flags") or 0) & 64:
        canvas._put(x, y, "Only you can see this · ", Style(12, MUTED))
        w = canvas._width("Only you can see this · ", Style(12, MUTED))
        canvas._put(x + w, y, "Dismiss message", Style(12, (0, 168, 252)))
        y += px(20)
    canvas.crop(y + px(12))
    return canvas.drawn


# --- the scene: the real bot, four officers on duty ------------------------------------------------------------

OFFICERS = [  # (user id, name, callsign, department, minutes on duty, status code)
    (444444444444444401, "Ofc. Bubbleton", "ADAM-12", "Patrol", 84, "10-8"),
    (444444444444444402, "Sgt. Riley", "LINCOLN-3", "Patrol", 131, "10-23"),
    (444444444444444403, "Tpr. Vance", "TRAFFIC-7", "Traffic", 47, "10-97"),
    (444444444444444404, "Medic Okafor", "MEDIC-21", "EMS", 22, "10-6"),
]


@dataclass
class Scene:
    """The captured messages and what drawing them needs."""

    status_panel: dict[str, Any]
    shift_panel: dict[str, Any]
    now: datetime
    names: dict[int, str]


async def capture(workdir: Path) -> Scene:
    """Run the real bot against the fake Discord and the sandbox; return the panels as the fake received them."""
    sandbox = NorthcaSandbox(
        SandboxConfig(partner_key=KEY, auto_approve_after=None, mdts=[SandboxMdt(id=MDT, owner_discord_id=str(OWNER))])
    )
    await sandbox.start()
    now = utcnow()
    try:
        async with FakeDiscord() as fake:
            bot = NorthcaBot(make_config(sandbox, workdir / "bot.sqlite3"))
            await bot.__aenter__()
            try:
                await bot.login("render-bot-token")
                h = Harness(bot, fake)
                members = [
                    builders.member(uid, permissions=MEMBER_PERMS, username=name.split()[-1].lower(), nick=name)
                    for uid, name, *_ in OFFICERS
                ]
                h.add_guild(GUILD, name="Test County RP", owner_id=ADMIN, members=[ADMIN_M, *members])
                await link_guild(bot, sandbox)
                by_id = {int(m["user"]["id"]): m for m in members}
                for uid, name, callsign, _, _, _ in OFFICERS:
                    await h.slash("profile set", member=by_id[uid], guild_id=GUILD, callsign=callsign, name=name)
                # The shift service keeps wall-clock times: each shift started its minutes before now.
                for uid, name, _, department, minutes, _ in OFFICERS:
                    at = now - timedelta(minutes=minutes)
                    await bot.shifts.start(GUILD, uid, display_name=name, department=department, at=at)
                await settle(h)
                first = await h.slash("status panel", member=ADMIN_M, guild_id=GUILD)
                await first.final()
                [panel] = await bot.unit_status.panels(GUILD)
                message = fake.messages[panel.message_id]
                for (*_, code), member in zip(OFFICERS, members, strict=True):
                    if code != "10-8":
                        await h.click(f"northca:status:set:{code}", member=member, guild_id=GUILD, message=message)
                await settle(h)
                status_panel = dict(fake.messages[panel.message_id])
                officer = members[0]
                reply = await h.slash("shift", sub="panel", member=officer, guild_id=GUILD)
                shift_panel = {
                    "content": reply.content,
                    "embeds": reply.embeds,
                    "components": reply.components,
                    "flags": reply.flags,
                }
                h.close()
            finally:
                await bot.close()
    finally:
        await sandbox.stop()
    names = {uid: name for uid, name, *_ in OFFICERS} | {ADMIN: "admin"}
    return Scene(status_panel, shift_panel, utcnow(), names)


def render(out: Path, *, save: Callable[[Image.Image, Path], None] | None = None) -> dict[str, Drawn]:
    """Capture the scene and draw `status-panel.png` and `shift-panel.png` into `out`."""
    with tempfile.TemporaryDirectory() as workdir:
        scene = asyncio.run(capture(Path(workdir)))
    drawn = {
        "status-panel.png": draw_message(scene.status_panel, now=scene.now, names=scene.names, used_by=None),
        "shift-panel.png": draw_message(
            scene.shift_panel, now=scene.now, names=scene.names, used_by=(OFFICERS[0][1], "/shift panel")
        ),
    }
    out.mkdir(parents=True, exist_ok=True)
    for name, result in drawn.items():
        (save or (lambda image, path: image.save(path, optimize=True)))(result.image, out / name)
    return drawn


def main(argv: Sequence[str] = sys.argv[1:]) -> None:
    out = Path(argv[0]) if argv else Path(__file__).resolve().parents[2] / "docs" / "images"
    for name, result in render(out).items():
        print(f"{out / name}: {result.image.width}x{result.image.height}, {len(result.buttons)} buttons")


if __name__ == "__main__":
    main()
