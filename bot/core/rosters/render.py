"""The week as a picture (PNG timetable) and as text (for screen readers and as a fallback).

Picture: days across (Monday..Sunday), the local time of day down, each occurrence a labelled block; the
viewer's own are highlighted; blocks that overlap in time share their day's column side by side; an overnight
block continues at the top of the next day's column. Drawn for phones in Discord's dark theme (the picture
sits on its dark background): larger text, and a legend under the grid saying what a block of one's own looks
like; one's own differ in shape too (a thick border and a corner mark), not by colour alone. Pillow's built-in
font is used, so no font files are needed. The renderer returns what it drew (`DrawnBlock`), so tests (and the
text fallback) can check the content without OCR.
"""

from __future__ import annotations

import io
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw, ImageFont

from bot.core.rosters.occurrences import Occurrence

DISCORD_MESSAGE_LIMIT = 2000

GUTTER = 64  # the hour labels
HEADER = 56  # title and day names
COLUMN = 200  # a day's width, widened on a crowded week so each side-by-side block fits a line of text
MAX_COLUMN = 460
HOUR = 32
PAD = 2
FONT_SIZE = 15  # read on a phone, where the picture is shrunk to the screen's width
TITLE_SIZE = 18
LINE = 18  # label line height
LEGEND = 36  # the legend's strip under the grid
GRID_BOTTOM = HEADER + 24 * HOUR
HEIGHT = GRID_BOTTOM + 8 + LEGEND
MINE_BORDER = 4  # a block of one's own: a thick border and a corner mark (shape, not colour alone)
CORNER = 12

# Discord's dark theme: the chat background, its lines and text; blocks in muted blurple, one's own in amber.
BACKGROUND = (49, 51, 56)
GRID = (78, 80, 88)
TEXT = (242, 243, 245)
BLOCK = (64, 78, 134)
BLOCK_EDGE = (120, 134, 240)
MINE = (120, 86, 22)
MINE_EDGE = (240, 178, 50)
LEGEND_TEXT = ("Scheduled shift", "Your shift (thick border, corner mark)")


@dataclass(frozen=True)
class DrawnBlock:
    """One block as drawn: which occurrence, in which day column, where, and its label lines."""

    template_id: int
    name: str
    column: int  # 0 = Monday
    box: tuple[int, int, int, int]
    lines: tuple[str, ...]
    name_lines: int  # the first lines hold the name (wrapped), then the times and the department
    mine: bool
    continued: bool  # the overnight part, in the next day's column


@dataclass(frozen=True)
class RenderedWeek:
    png: bytes
    width: int
    height: int
    blocks: list[DrawnBlock]
    legend: tuple[str, ...] = LEGEND_TEXT  # the legend's entries, as drawn under the grid

    @property
    def labels(self) -> list[str]:
        """Each block's name as drawn (its wrapped lines joined), in drawing order."""
        return [" ".join(block.lines[: block.name_lines]) for block in self.blocks]


@dataclass(frozen=True)
class _Segment:
    occurrence: Occurrence
    column: int
    top_minute: int
    bottom_minute: int
    continued: bool


def _segments(occurrences: Sequence[Occurrence], monday: date, zone: ZoneInfo) -> list[_Segment]:
    """Each occurrence cut at local midnights into day columns of the week (wall-clock minutes)."""
    found: list[_Segment] = []
    for o in occurrences:
        start, end = o.start.astimezone(zone), o.end.astimezone(zone)
        day = start.date()
        while day <= end.date():
            top = start.hour * 60 + start.minute if day == start.date() else 0
            bottom = end.hour * 60 + end.minute if day == end.date() else 24 * 60
            if day == start.date() == end.date() and bottom <= top:
                # Ends in the repeated autumn hour at a wall time before it started: draw its real length.
                bottom = min(24 * 60, top + max(1, o.duration_ms // 60_000))
            column = (day - monday).days
            if bottom > top and 0 <= column < 7:
                found.append(_Segment(o, column, top, bottom, day != start.date()))
            day += timedelta(days=1)
    return found


def _lanes(segments: list[_Segment]) -> list[tuple[_Segment, int, int]]:
    """(segment, lane, lanes in its group): overlapping segments of one column side by side."""
    placed: list[tuple[_Segment, int, int]] = []
    ordered = sorted(segments, key=lambda s: (s.column, s.top_minute, s.bottom_minute))
    group: list[tuple[_Segment, int]] = []
    lane_ends: list[int] = []
    group_column, group_end = -1, -1

    def close() -> None:
        placed.extend((segment, lane, len(lane_ends)) for segment, lane in group)

    for segment in ordered:
        if segment.column != group_column or segment.top_minute >= group_end:
            close()
            group, lane_ends = [], []
            group_column, group_end = segment.column, segment.bottom_minute
        lane = next((i for i, end in enumerate(lane_ends) if end <= segment.top_minute), len(lane_ends))
        if lane == len(lane_ends):
            lane_ends.append(segment.bottom_minute)
        else:
            lane_ends[lane] = segment.bottom_minute
        group.append((segment, lane))
        group_end = max(group_end, segment.bottom_minute)
    close()
    return placed


def _fit(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: int) -> str:
    """The text, cut with an ellipsis to fit `width` pixels."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…" if text else ""


def _wrap(
    draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: int
) -> list[str]:
    """The text in lines of at most `width` pixels, broken between words (a word too long is cut)."""
    lines: list[str] = []
    for word in text.split():
        joined = f"{lines[-1]} {word}" if lines else word
        if lines and draw.textlength(joined, font=font) <= width:
            lines[-1] = joined
        else:
            lines.append(_fit(draw, word, font, width))
    return [line for line in lines if line]


def _draw_upwards(
    image: Image.Image, text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, where: tuple[int, int, int]
) -> None:
    """`text` read bottom to top in a narrow block: x, and the block's top and bottom."""
    x, top, bottom = where
    if not text or bottom - top < 8:
        return
    strip = Image.new("L", (bottom - top, LINE), 0)
    ImageDraw.Draw(strip).text((0, 0), text, fill=255, font=font)
    rotated = strip.rotate(90, expand=True)
    image.paste(TEXT, (x, bottom - rotated.height, x + rotated.width, bottom), rotated)


def _draw_block(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], *, mine: bool) -> None:
    """A block; one's own with a thick border and a filled corner mark (top right), seen without colour."""
    left, top, right, bottom = box
    if not mine:
        draw.rectangle(box, fill=BLOCK, outline=BLOCK_EDGE, width=1)
        return
    draw.rectangle(box, fill=MINE, outline=MINE_EDGE, width=MINE_BORDER)
    corner = min(CORNER, right - left, bottom - top)
    draw.polygon([(right - corner, top), (right, top), (right, top + corner)], fill=MINE_EDGE)


def _draw_legend(draw: ImageDraw.ImageDraw, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, top: int) -> None:
    """What the blocks mean, in words beside a sample of each."""
    x = GUTTER
    for text, mine in zip(LEGEND_TEXT, (False, True), strict=True):
        _draw_block(draw, (x, top + 4, x + 36, top + 26), mine=mine)
        draw.text((x + 44, top + 6), text, fill=TEXT, font=font)
        x += 44 + int(draw.textlength(text, font=font)) + 32


def render_week(
    occurrences: Sequence[Occurrence],
    monday: date,
    zone: ZoneInfo,
    *,
    mine: Collection[int] = (),
    title: str = "Roster",
) -> RenderedWeek:
    """The week from `monday` as a PNG; `mine`: the viewer's template ids (highlighted)."""
    placed = _lanes(_segments(occurrences, monday, zone))
    most_lanes = max((lanes for _, _, lanes in placed), default=1)
    column_width = min(MAX_COLUMN, max(COLUMN, most_lanes * (LINE + 4) + 2 * PAD))
    width = GUTTER + 7 * column_width + 8
    image = Image.new("RGB", (width, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=FONT_SIZE)
    bold = ImageFont.load_default(size=TITLE_SIZE)
    draw.text((8, 6), f"{title} · week of {monday.isoformat()} · {zone.key}", fill=TEXT, font=bold)
    for hour in range(25):
        y = HEADER + hour * HOUR
        draw.line((GUTTER, y, width - 8, y), fill=GRID)
        if hour < 24:
            draw.text((8, y + 4), f"{hour:02d}:00", fill=TEXT, font=font)
    for column in range(8):
        x = GUTTER + column * column_width
        draw.line((x, HEADER - 22, x, GRID_BOTTOM), fill=GRID)
        if column < 7:
            day = monday + timedelta(days=column)
            draw.text((x + 6, HEADER - 20), f"{day:%a} {day.day} {day:%b}", fill=TEXT, font=font)
    _draw_legend(draw, font, GRID_BOTTOM + 8)

    blocks: list[DrawnBlock] = []
    for segment, lane, lanes in placed:
        o = segment.occurrence
        lane_width = (column_width - 2 * PAD) / lanes
        left = int(GUTTER + segment.column * column_width + PAD + lane * lane_width)
        right = int(left + lane_width) - PAD
        top = HEADER + segment.top_minute * HOUR // 60 + 1
        bottom = HEADER + segment.bottom_minute * HOUR // 60 - 1
        is_mine = o.template_id in mine
        _draw_block(draw, (left, top, right, max(bottom, top + 2)), mine=is_mine)
        start, end = o.start.astimezone(zone), o.end.astimezone(zone)
        times = f"{start:%H:%M}-{end:%H:%M}"  # the built-in font has no en dash
        inset = MINE_BORDER + 2 if is_mine else 4  # the text clear of the border
        inner = right - left - 2 * inset
        name = ("… " if segment.continued else "") + o.name
        vertical = inner < LINE * 2 + 4 and bottom - top > inner  # too narrow for words: write up the block
        lines: tuple[str, ...] = ()
        name_lines: list[str] = []
        if vertical and right - left < LINE:
            pass  # narrower than a line of text (only past MAX_COLUMN): no label
        elif vertical:
            lines = (_fit(draw, f"{name} {times}", font, bottom - top - 6),)
            _draw_upwards(image, lines[0], font, (left + (right - left - LINE) // 2, top + 3, bottom - 3))
            name_lines = [name]
        else:
            name_lines = _wrap(draw, name, font, inner - (CORNER if is_mine else 0))  # clear of the corner mark
            wanted = [*name_lines, _fit(draw, times, font, inner)]
            if o.department:
                wanted.append(_fit(draw, o.department, font, inner))
            room = max(1, (bottom - top - 2) // LINE)
            lines = tuple(line for line in wanted[:room] if line)
            for i, line in enumerate(lines):
                draw.text((left + inset, top + inset - 2 + i * LINE), line, fill=TEXT, font=font)
        blocks.append(
            DrawnBlock(
                o.template_id,
                o.name,
                segment.column,
                (left, top, right, bottom),
                lines,
                min(len(name_lines), len(lines)),
                is_mine,
                segment.continued,
            )
        )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False, compress_level=3)
    return RenderedWeek(buffer.getvalue(), width, HEIGHT, blocks)


def week_text(
    occurrences: Sequence[Occurrence],
    monday: date,
    zone: ZoneInfo,
    *,
    mine: Collection[int] = (),
    limit: int = DISCORD_MESSAGE_LIMIT,
) -> list[str]:
    """The week as plain text, one page per Discord message (each at most `limit` characters)."""
    lines = [f"Roster, week of {monday.isoformat()} (times in {zone.key}):"]
    monday_midnight = datetime.combine(monday, time(), tzinfo=zone)
    for offset in range(7):
        day = monday + timedelta(days=offset)
        todays = [o for o in occurrences if o.day == day]
        lines.append(f"{day:%A %d %B}: " + ("nothing scheduled" if not todays else f"{len(todays)} shifts"))
        for o in todays:
            end = o.end.astimezone(zone)
            until = f"{end:%H:%M}" + (" next day" if end.date() > day else "")
            extra = f", {o.department}" if o.department else ""
            marker = " (yours)" if o.template_id in mine else ""
            lines.append(f"- {o.start.astimezone(zone):%H:%M} to {until}: {o.name}{extra}{marker}")
    carried = [o for o in occurrences if o.day < monday and o.end > monday_midnight]
    for o in carried:
        lines.insert(1, f"- until {o.end.astimezone(zone):%H:%M} Monday: {o.name} (from Sunday)")
    return paginate(lines, limit)


def paginate(lines: Sequence[str], limit: int = DISCORD_MESSAGE_LIMIT) -> list[str]:
    """Lines joined into pages of at most `limit` characters (a line longer than that is cut)."""
    pages: list[str] = []
    current = ""
    for raw in lines:
        line = raw if len(raw) <= limit else raw[: limit - 1] + "…"
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pages.append(current)
            candidate = line
        current = candidate
    if current:
        pages.append(current)
    return pages
