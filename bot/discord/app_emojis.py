"""Application emojis for the status kinds and duty states, with Unicode as the fallback.

The bot draws its own small icons (Pillow, no files shipped) and keeps them as application emojis: owned by the
application, usable in every server without Manage Expressions there. At start, like the slash commands
(bot/discord/commands_sync.py), only what is missing is uploaded: each emoji's name carries a hash of its picture
(`nc_on_duty_1a2b3c4d`), so a picture that changed is uploaded under a new name (the old one is left: a process
of the previous version may still use it during a rolling start), and an unchanged set costs one listing.
Several processes starting at once may race to upload the same name: the loser's upload is refused as a
duplicate, and it takes the winner's from a new listing. Anything Discord refuses leaves the Unicode fallback in
place; a start never fails for emojis.

Where an icon also carries meaning, its shape does too (a check, a bar, a cross, a pause, an exclamation mark),
so the meaning never rests on colour alone.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import discord
from PIL import Image, ImageDraw

log = logging.getLogger(__name__)

EmojiKey = Literal["available", "busy", "unavailable", "urgent", "panic", "on_duty", "on_break", "off_duty"]
PREFIX = "nc_"
SIZE = 128

Shape = Literal["check", "bar", "cross", "bang", "dot", "pause", "ring"]


@dataclass(frozen=True)
class EmojiSpec:
    key: EmojiKey
    colour: tuple[int, int, int]
    shape: Shape
    fallback: str  # the Unicode emoji shown when the application emoji is not there


SPECS: tuple[EmojiSpec, ...] = (
    EmojiSpec("available", (35, 165, 90), "check", "🟢"),
    EmojiSpec("busy", (88, 101, 242), "bar", "🔵"),
    EmojiSpec("unavailable", (128, 132, 142), "cross", "⚪"),
    EmojiSpec("urgent", (240, 178, 50), "bang", "🟠"),
    EmojiSpec("panic", (218, 55, 60), "bang", "🚨"),
    EmojiSpec("on_duty", (35, 165, 90), "dot", "🟢"),
    EmojiSpec("on_break", (240, 178, 50), "pause", "☕"),
    EmojiSpec("off_duty", (128, 132, 142), "ring", "⚫"),
)
BY_KEY: dict[EmojiKey, EmojiSpec] = {spec.key: spec for spec in SPECS}
# A 10-code's button style -> the kind of status its emoji shows.
STYLE_KEYS: dict[str, EmojiKey] = {
    "success": "available",
    "primary": "busy",
    "secondary": "unavailable",
    "danger": "urgent",
}


def draw(spec: EmojiSpec) -> bytes:
    """The icon as PNG: a filled circle in the kind's colour with a white shape."""
    image = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    white = (255, 255, 255, 255)
    pen.ellipse((4, 4, SIZE - 4, SIZE - 4), fill=(*spec.colour, 255))
    w = 14
    if spec.shape == "check":
        pen.line([(36, 66), (56, 88), (94, 42)], fill=white, width=w, joint="curve")
    elif spec.shape == "bar":
        pen.rounded_rectangle((32, 56, 96, 72), radius=7, fill=white)
    elif spec.shape == "cross":
        pen.line([(42, 42), (86, 86)], fill=white, width=w)
        pen.line([(86, 42), (42, 86)], fill=white, width=w)
    elif spec.shape == "bang":
        pen.rounded_rectangle((56, 26, 72, 78), radius=7, fill=white)
        pen.ellipse((55, 86, 73, 104), fill=white)
    elif spec.shape == "dot":
        pen.ellipse((40, 40, 88, 88), fill=white)
    elif spec.shape == "pause":
        pen.rounded_rectangle((40, 36, 58, 92), radius=6, fill=white)
        pen.rounded_rectangle((70, 36, 88, 92), radius=6, fill=white)
    else:  # ring
        pen.ellipse((34, 34, 94, 94), outline=white, width=w)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False, compress_level=9)
    return out.getvalue()


def emoji_name(spec: EmojiSpec, picture: bytes) -> str:
    """`nc_<key>_<first 8 hex of the picture's SHA-256>`: a changed picture gets a new name."""
    return f"{PREFIX}{spec.key}_{hashlib.sha256(picture).hexdigest()[:8]}"


class AppEmojis:
    """The bot's emojis: the application emoji's mention once uploaded, else the Unicode fallback."""

    def __init__(self, *, draw_pictures: bool = True) -> None:
        self._mentions: dict[EmojiKey, str] = {}
        self._pictures: dict[EmojiKey, tuple[str, bytes]] = {}
        for spec in SPECS if draw_pictures else ():
            picture = draw(spec)
            self._pictures[spec.key] = (emoji_name(spec, picture), picture)

    @classmethod
    def unicode_only(cls) -> AppEmojis:
        """The fallbacks alone (nothing drawn, nothing to upload)."""
        return cls(draw_pictures=False)

    def text(self, key: EmojiKey) -> str:
        """For a message: `<:nc_on_duty_1a2b3c4d:123>`, or the Unicode fallback."""
        return self._mentions.get(key) or BY_KEY[key].fallback

    def for_style(self, style: str) -> str:
        """The emoji of a 10-code's kind (its button style)."""
        return self.text(STYLE_KEYS.get(style, "unavailable"))

    def wanted_names(self) -> dict[EmojiKey, str]:
        return {key: name for key, (name, _) in self._pictures.items()}

    def _use(self, emojis: list[discord.Emoji]) -> list[EmojiKey]:
        """Takes the uploaded ones whose names match the wanted pictures; the keys still missing."""
        by_name = {e.name: e for e in emojis}
        missing: list[EmojiKey] = []
        for key, (name, _) in self._pictures.items():
            found = by_name.get(name)
            if found is None:
                missing.append(key)
            else:
                self._mentions[key] = str(found)
        return missing

    async def sync(self, client: discord.Client) -> int:
        """Uploads the missing emojis; how many were uploaded. Never raises for Discord's refusals: what is not
        there stays on its Unicode fallback."""
        try:
            current = await client.fetch_application_emojis()
        except discord.HTTPException as exc:
            log.warning("application emojis: could not list them (HTTP %s): Unicode emojis are used", exc.status)
            return 0
        missing = self._use(current)
        uploaded = 0
        for key in missing:
            name, picture = self._pictures[key]
            try:
                made = await client.create_application_emoji(name=name, image=picture)
            except discord.HTTPException as exc:
                if exc.status == 400 and await self._taken_meanwhile(client, key):
                    continue  # another process uploaded it first
                log.warning("application emoji %s not uploaded (HTTP %s): its Unicode emoji is used", name, exc.status)
                continue
            self._mentions[key] = str(made)
            uploaded += 1
        if uploaded:
            log.info("application emojis: uploaded %d (new or changed pictures)", uploaded)
        return uploaded

    async def _taken_meanwhile(self, client: discord.Client, key: EmojiKey) -> bool:
        try:
            self._use(await client.fetch_application_emojis())
        except discord.HTTPException:
            return False
        return key in self._mentions


EmojiText = Callable[[EmojiKey], str]
