"""Fitting texts to Discord's limits (bot/discord/discord_text.py), without Discord."""

from __future__ import annotations

import discord
from discord import app_commands

from bot.discord.discord_text import EMBED_TOTAL, fit, fit_choices, fit_embed, fit_view, length


def test_text_over_the_limit_is_cut_with_an_ellipsis():
    assert fit("short", 10) == "short"
    assert fit("x" * 2500, 2000) == "x" * 1999 + "…"
    # an emoji outside the BMP counts two (UTF-16), and is never split
    cut = fit("😀" * 1500, 2000)
    assert length(cut) <= 2000 and cut.endswith("…") and set(cut[:-1]) == {"😀"}


def test_length_counts_utf16_units_as_discord_does():
    # ASCII, accented (one unit each), emoji outside the BMP (two), and a lone surrogate (one) mixed.
    assert length("") == 0 and length("Shift ended") == 11
    assert length("Café ✅") == 6
    assert length("😀 on duty 👮") == 13
    assert length("a\ud800b") == 3


def test_a_mention_or_timestamp_is_not_cut_in_half():
    text = "a" * 1990 + " <t:1700000000:R> tail"
    assert fit(text, 2000) == "a" * 1990 + "…"


def test_embed_fits_every_part_and_the_total():
    embed = discord.Embed(title="t" * 300, description="d" * 5000, colour=discord.Colour.red())
    for i in range(30):
        embed.add_field(name=f"n{i}" * 100, value="v" * 2000)
    embed.set_footer(text="f" * 3000)
    fitted = fit_embed(embed)
    assert len(fitted.title or "") <= 256 and len(fitted.description or "") <= 4096
    assert len(fitted.fields) == 25
    assert all(len(f.value or "") <= 1024 and len(f.name or "") <= 256 for f in fitted.fields)
    assert len(fitted.footer.text or "") <= 2048
    assert len(fitted) <= EMBED_TOTAL and fitted.colour == discord.Colour.red()
    assert len(embed.fields) == 30  # the original is left as it was


def test_embed_at_every_limit_is_sent_as_it_is_and_one_unit_over_is_fitted():
    def embed(over: int, part: str) -> discord.Embed:
        e = discord.Embed(title="t" * (256 + over * (part == "title")), description="😀" * 1000)  # 2,000 units
        e.add_field(name="n" * (256 + over * (part == "name")), value="v" * (1024 + over * (part == "value")))
        e.add_field(name="n", value="v" * 1024)
        e.set_footer(text="f" * (1439 + over * (part == "total")))  # 6,000 in all
        return e

    at_limits = embed(0, "")
    assert len(at_limits) + 1000 == EMBED_TOTAL  # len() counts each emoji once; Discord counts it twice (UTF-16)
    assert fit_embed(at_limits).to_dict() == at_limits.to_dict()
    for part in ("title", "name", "value", "total"):
        over = embed(1, part)
        fitted = fit_embed(over)
        assert fitted.to_dict() != over.to_dict() == embed(1, part).to_dict(), part  # the original is left as it was
        texts = [fitted.title, fitted.description, fitted.footer.text]
        texts += [t for f in fitted.fields for t in (f.name, f.value)]
        assert sum(length(t or "") for t in texts) <= EMBED_TOTAL, part


def test_choices_and_button_labels_fit():
    choices = fit_choices([app_commands.Choice(name="n" * 150, value=f"v{i}") for i in range(30)])
    assert len(choices) == 25 and all(len(c.name) <= 100 for c in choices)
    assert fit_choices([app_commands.Choice(name="x", value="v" * 101)]) == []  # a cut value would pick something else
    view = discord.ui.View()
    view.add_item(discord.ui.Button(label="b" * 120, custom_id="b"))
    button = fit_view(view).children[0]
    assert isinstance(button, discord.ui.Button) and len(button.label or "") == 80


def test_a_layouts_nested_buttons_and_selects_fit():
    # A Components V2 layout keeps its controls in containers, action rows and section accessories, not at the top.
    beside = discord.ui.Button[discord.ui.LayoutView](label="s" * 120, custom_id="s")
    in_row = discord.ui.Button[discord.ui.LayoutView](label="r" * 120, custom_id="r")
    select = discord.ui.Select[discord.ui.LayoutView](
        placeholder="p" * 200, options=[discord.SelectOption(label="o" * 150)], custom_id="p"
    )
    view = discord.ui.LayoutView()
    view.add_item(
        discord.ui.Container(
            discord.ui.Section("a switch", accessory=beside),
            discord.ui.ActionRow(in_row),
            discord.ui.ActionRow(select),
        )
    )
    fit_view(view)
    assert (len(beside.label or ""), len(in_row.label or "")) == (80, 80)
    assert len(select.placeholder or "") == 150 and len(select.options[0].label) == 100
