"""Discord's size limits, and fitting every text the bot sends to them.

Discord refuses a whole message (HTTP 400, code 50035) when one text in it is too
long, so a long error text from Northca would leave an interaction unanswered.
Everything sent goes through bot.interactions, which fits it here first; texts are
cut with an ellipsis. Lengths are counted in UTF-16 code units, which is never less
than the code points Discord may count, so a fitted text is accepted either way.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, tzinfo
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import discord
from discord import app_commands

# Discord's timestamps (`<t:…>`): defined beside the error wording (bot/wording.py, which has no discord.py).
from bot.wording import counted as counted
from bot.wording import discord_ts as discord_ts

CONTENT = 2000
EMBED_TITLE = 256
EMBED_DESCRIPTION = 4096
FIELD_NAME = 256
FIELD_VALUE = 1024
FOOTER = 2048
AUTHOR = 256
FIELDS = 25
EMBED_TOTAL = 6000
BUTTON_LABEL = 80
SELECT_PLACEHOLDER = 150
OPTION_LABEL = 100
OPTION_DESCRIPTION = 100
OPTIONS = 25
MODAL_TITLE = 45
TEXT_INPUT_LABEL = 45
TEXT_INPUT_PLACEHOLDER = 100
CHOICE_NAME = 100
CHOICE_VALUE = 100
CHOICES = 25

ELLIPSIS = "…"
# A mention, channel, emoji or timestamp token (<@1>, <#1>, <:a:1>, <t:1:R>) cut in half shows as junk.
_OPEN_TOKEN = re.compile(r"<[@#:at][^<>\s]{0,80}$")

V = TypeVar("V", bound=discord.ui.View | discord.ui.LayoutView)


def length(text: str) -> int:
    """Discord-safe length: UTF-16 code units (an emoji outside the BMP counts 2)."""
    if text.isascii():
        return len(text)
    # Called several times per part of every answer: count in C, not in a Python loop over each character.
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def fit(text: str, limit: int) -> str:
    """`text` if it fits in `limit`, else its start cut at a clean point, with an ellipsis."""
    if length(text) <= limit:
        return text
    room = limit - length(ELLIPSIS)
    cut, used = 0, 0
    for ch in text:
        size = 2 if ord(ch) > 0xFFFF else 1
        if used + size > room:
            break
        used += size
        cut += 1
    head = _OPEN_TOKEN.sub("", text[:cut]).rstrip()
    return head + ELLIPSIS


QUOTED = 400


def quoted(text: str) -> str:
    """Someone else's text (Northca's error) inside one of our sentences: cut short, so the
    sentence around it, which says what to do, still fits."""
    return fit(text, QUOTED)


def fit_content(text: str | None) -> str | None:
    return None if text is None else fit(text, CONTENT)


def fit_embed(embed: discord.Embed) -> discord.Embed:
    """`embed` itself when it is within every limit already (nearly every answer: no copy made), else a copy
    within every per-part limit and the 6,000 total."""
    if _within_limits(embed):
        return embed
    # to_dict() is a TypedDict; the fitting below reads and writes its keys by name.
    data: dict[str, Any] = embed.to_dict()  # type: ignore[assignment]
    _fit_key(data, "title", EMBED_TITLE)
    _fit_key(data, "description", EMBED_DESCRIPTION)
    # to_dict() shares the field, footer and author dicts with `embed`: copied, so `embed` is left as it was.
    fields = [dict(item) for item in (data.get("fields") or [])[:FIELDS]]
    for key in ("footer", "author"):
        if isinstance(data.get(key), dict):
            data[key] = dict(data[key])
    for item in fields:
        _fit_key(item, "name", FIELD_NAME)
        _fit_key(item, "value", FIELD_VALUE)
    if fields:
        data["fields"] = fields
    if isinstance(data.get("footer"), dict):
        _fit_key(data["footer"], "text", FOOTER)
    if isinstance(data.get("author"), dict):
        _fit_key(data["author"], "name", AUTHOR)
    _fit_total(data, fields)
    return discord.Embed.from_dict(data)


def _within_limits(embed: discord.Embed) -> bool:
    """Whether every part of `embed` and their total are within Discord's limits (read, nothing copied)."""
    # The embed's own dicts, read where discord.py keeps them: its `fields`, `footer` and `author` properties build
    # a proxy object per field and part at every read (a third of this check's time, on every answer).
    fields: list[dict[str, Any]] = getattr(embed, "_fields", None) or []
    if len(fields) > FIELDS:
        return False
    footer: dict[str, Any] = getattr(embed, "_footer", None) or {}
    author: dict[str, Any] = getattr(embed, "_author", None) or {}
    parts: list[tuple[object, int]] = [
        (embed.title, EMBED_TITLE), (embed.description, EMBED_DESCRIPTION), (footer.get("text"), FOOTER),
        (author.get("name"), AUTHOR),
    ]  # fmt: skip
    for item in fields:
        parts += [(item.get("name"), FIELD_NAME), (item.get("value"), FIELD_VALUE)]
    total = 0
    for text, limit in parts:
        if isinstance(text, str):
            size = length(text)
            if size > limit:
                return False
            total += size
    return total <= EMBED_TOTAL


def _fit_key(data: dict[str, Any], key: str, limit: int) -> None:
    value = data.get(key)
    if isinstance(value, str):
        data[key] = fit(value, limit)


def _fit_total(data: dict[str, Any], fields: list[dict[str, Any]]) -> None:
    """Shorten the longest texts first until the embed's texts add up to at most 6,000."""
    parts: list[tuple[dict[str, Any], str]] = [(data, "title"), (data, "description")]
    parts += [(item, key) for item in fields for key in ("name", "value")]
    if isinstance(data.get("footer"), dict):
        parts.append((data["footer"], "text"))
    if isinstance(data.get("author"), dict):
        parts.append((data["author"], "name"))
    parts = [(owner, key) for owner, key in parts if isinstance(owner.get(key), str)]

    def total() -> int:
        return sum(length(owner[key]) for owner, key in parts)

    excess = total() - EMBED_TOTAL
    while excess > 0:
        owner, key = max(parts, key=lambda p: length(p[0][p[1]]))
        current = length(owner[key])
        owner[key] = fit(owner[key], max(2, current - excess))
        if length(owner[key]) >= current:
            break  # nothing left to cut (cannot happen with 6,000 over at most 54 parts)
        excess = total() - EMBED_TOTAL


def fit_view(view: V) -> V:
    """Fits the labels, placeholders and options of `view`'s items, in place (a layout's at every level: its
    buttons and selects sit in containers, sections and action rows)."""
    items = view.walk_children() if isinstance(view, discord.ui.LayoutView) else view.children
    for child in items:
        item: Any = getattr(child, "item", child)  # a DynamicItem wraps its button or select
        if isinstance(item, discord.ui.Button) and item.label:
            item.label = fit(item.label, BUTTON_LABEL)
        if isinstance(item, discord.ui.Select):
            if item.placeholder:
                item.placeholder = fit(item.placeholder, SELECT_PLACEHOLDER)
            options = item.options[:OPTIONS]
            for option in options:
                option.label = fit(option.label, OPTION_LABEL)
                if option.description:
                    option.description = fit(option.description, OPTION_DESCRIPTION)
            item.options = options
        if isinstance(item, discord.ui.TextInput):
            if item.label:
                item.label = fit(item.label, TEXT_INPUT_LABEL)
            if item.placeholder:
                item.placeholder = fit(item.placeholder, TEXT_INPUT_PLACEHOLDER)
    if isinstance(view, discord.ui.Modal) and view.title:
        view.title = fit(view.title, MODAL_TITLE)
    return view


def fit_choices(choices: list[app_commands.Choice[str]]) -> list[app_commands.Choice[str]]:
    """At most 25 autocomplete choices, names fitted; a value too long to send is left out
    (cutting it would pick something else)."""
    fitted = [
        app_commands.Choice(name=fit(c.name, CHOICE_NAME), value=c.value)
        for c in choices
        if not isinstance(c.value, str) or length(c.value) <= CHOICE_VALUE
    ]
    return fitted[:CHOICES]


# Dates as people mean them. A date someone typed as a date ("leave until 17 January") is a
# day of the server's calendar, not an instant: shown as a Discord timestamp of its midnight, it moves a day
# early for everyone west of the server. So days are written out as plain text, in the server's time zone and
# inclusive ("15–17 Jan 2025, 3 days"); times of day stay Discord timestamps (each reader's own zone).
_EN_DASH = "–"


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _day_month(day: date) -> str:
    return f"{day.day} {_MONTHS[day.month - 1]}"


def day_range_text(first: date, last: date) -> str:
    """Inclusive days: "15 Jan 2025, 1 day", "15–17 Jan 2025, 3 days", "30 Jan – 2 Feb 2025, 4 days",
    "30 Dec 2024 – 2 Jan 2025, 4 days" (the month names are fixed English, whatever the host's locale)."""
    days = (last - first).days + 1
    count = f"{days} day" if days == 1 else f"{days} days"
    if last <= first:
        return f"{_day_month(first)} {first.year}, 1 day"
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}{_EN_DASH}{last.day} {_MONTHS[first.month - 1]} {first.year}, {count}"
    if first.year == last.year:
        return f"{_day_month(first)} {_EN_DASH} {_day_month(last)} {last.year}, {count}"
    return f"{_day_month(first)} {first.year} {_EN_DASH} {_day_month(last)} {last.year}, {count}"


def local_days(start_ms: int, end_ms: int, zone: str) -> tuple[date, date]:
    """The first and last day, in `zone` (an IANA name), that [start_ms, end_ms) touches: a span from one local
    midnight to another gives the inclusive days it covers; one ending mid-day includes that day."""
    tz = _zone(zone)
    first = datetime.fromtimestamp(start_ms / 1000, tz).date()
    last = datetime.fromtimestamp(max(start_ms, end_ms - 1) / 1000, tz).date()
    return first, last


def local_time_text(at_ms: int, zone: str) -> str:
    """A moment as plain text in the server's time zone ("28 Nov 2026 14:05"), for where a Discord timestamp
    cannot be shown (autocomplete choices, select options)."""
    at = datetime.fromtimestamp(at_ms / 1000, _zone(zone))
    return f"{_day_month(at.date())} {at.year} {at:%H:%M}"


def span_days_text(start_ms: int, end_ms: int, zone: str) -> str:
    """[start_ms, end_ms) as the inclusive days of the server's calendar ("15–17 Jan 2025, 3 days")."""
    return day_range_text(*local_days(start_ms, end_ms, zone))


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def numbered(label: str, number: int | None) -> str:
    """A record as people name it: "Call #12", "LOA #27" (the server's short number, migration 039); the label
    alone for a record made before it was numbered (none are left after the migration's backfill)."""
    return f"{label} #{number}" if number is not None else label
