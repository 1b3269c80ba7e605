"""/settings panel: a private, interactive view of this server's settings, one section at a time (channels,
roles, departments, codes, duty rules, quotas, rosters, ER:LC), each edited with Discord's role and channel
pickers and labelled forms.

Every change goes through the same validated, audited setters as the /settings subcommands
(bot/core/settings/service.py), so it is checked, kept in /settings history and announced in the shift log the same
way; a refusal is answered privately and the panel stays as it was. Manage Server is checked again on every
press, pick and form (the panel outlives a role change). The panel is private and short-lived (its view times
out), so it needs no persistent custom ids; the subcommands stay for scripts and muscle memory.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, get_args

import discord

from bot.core.errors import InvalidInput
from bot.core.settings import RoleFacts
from bot.core.settings.records import (
    CHANNEL_KINDS,
    ROLE_KINDS,
    SETTING_KEYS,
    ActivityPeriod,
    ButtonStyle,
    ChannelKind,
    GuildSettings,
    RoleKind,
    WeekStart,
)
from bot.discord.app_emojis import AppEmojis
from bot.discord.bot import bot_of
from bot.discord.discord_text import fit
from bot.discord.interactions import answer, edit_answer, guarded, require_guild, require_manage_guild, send_modal
from cogs.settings.embeds import LABELS, value_text
from cogs.settings.facts import channel_facts, role_facts
from cogs.style import BRAND

if TYPE_CHECKING:
    from bot.discord.bot import NorthcaBot

Section = Literal["channels", "roles", "departments", "codes", "duty", "quotas", "rosters", "erlc"]
SECTIONS: dict[Section, str] = {
    "channels": "Channels",
    "roles": "Roles",
    "departments": "Departments",
    "codes": "10-codes",
    "duty": "Duty rules",
    "quotas": "Quotas",
    "rosters": "Rosters",
    "erlc": "ER:LC",
}
SECTION_KEYS: dict[Section, tuple[str, ...]] = {
    "channels": tuple(f"channel.{k}" for k in CHANNEL_KINDS),
    "roles": tuple(f"role.{k}" for k in ROLE_KINDS),
    "departments": ("departments",),
    "codes": ("codes",),
    "duty": ("max_shift_hours", "timezone", "week_start", "off_duty", "leave_blocks_duty"),
    "quotas": ("activity_period", "role_quotas"),
    "rosters": ("roster.reminder_minutes",),
    "erlc": tuple(k for k in SETTING_KEYS if k.startswith("erlc.")),
}
HINTS: dict[Section, str] = {
    "channels": "Pick a channel for each; clear a pick to unset it. Only text channels are offered.",
    "roles": "Choose which role to set, then pick it; clear the pick to unset it.",
    "departments": "Add one with the button, remove one from the list.",
    "codes": "Add one with the button, remove one from the list. The status panels update themselves.",
    "duty": "Edit opens a form with every duty rule.",
    "quotas": "Pick the activity period; pick a role to set or remove its quota.",
    "rosters": "Edit opens a form for the reminder lead time.",
    "erlc": "Switch each on or off; Edit opens a form for the numbers.",
}
ROLE_KIND_LABELS: dict[RoleKind, str] = {
    "on-duty": "On Duty role",
    "on-break": "On Break role",
    "supervisor": "Supervisor roles (up to 10)",
    "on-leave": "On Leave role",
    "responder": "Responder role",
}
STYLE_NAMES: dict[ButtonStyle, str] = {"primary": "Blue", "secondary": "Grey", "success": "Green", "danger": "Red"}
PANEL_TIMEOUT = 15 * 60
NO_MENTIONS = discord.AllowedMentions.none()
TEXT_CHANNELS = [discord.ChannelType.text, discord.ChannelType.news]
MAX_SUPERVISOR_PICKS = 10
MAX_OPTIONS = 25  # a select's options; a larger server gets Discord's own pickers


def _allowed(interaction: discord.Interaction[Any]) -> tuple[NorthcaBot, int]:
    """Manage Server, checked again at every press, pick and form; the bot and the guild."""
    require_manage_guild(interaction, "change the settings")
    return bot_of(interaction), require_guild(interaction)


def _picked_ids(values: list[Any]) -> list[int]:
    """The ids a role or channel picker sent: resolved objects from Discord, or their ids as text."""
    return [int(getattr(v, "id", v)) for v in values]


FOOTER = "-# Only you see this panel. Every change is kept in /settings history."
ERLC_SWITCHES = (
    "erlc.calls_to_cad",
    "erlc.in_game_required",
    "erlc.auto_duty",
    "erlc.status_from_game",
    "erlc.quota_in_game",
)
# The layout's text: Discord allows 4,000 characters over every text display of a message; the values get what the
# heading, a note, the hint and the footer leave.
VALUES_TEXT = 3200


def section_lines(settings: GuildSettings, section: Section, emojis: AppEmojis | None = None) -> str:
    """The section's values, one line each (the ER:LC switches are drawn beside their buttons instead)."""
    if section == "codes":
        # One line per code, with the emoji of its kind (bot/discord/app_emojis.py), as on the status panels.
        icons = emojis or AppEmojis.unicode_only()
        lines = [
            f"{icons.for_style(c.style)} `{c.code}` {discord.utils.escape_markdown(c.label)}" for c in settings.codes
        ]
    else:
        keys = [k for k in SECTION_KEYS[section] if k not in ERLC_SWITCHES]
        lines = [f"**{LABELS[key]}**: {value_text(key, settings)}" for key in keys]
    return fit("\n".join(lines), VALUES_TEXT) if lines else ""


async def open_panel(interaction: discord.Interaction[NorthcaBot], section: Section = "channels") -> None:
    """The panel's first answer (the /settings panel command)."""
    bot, guild_id = _allowed(interaction)
    settings = bot.settings.get(guild_id)
    await answer(
        interaction,
        view=SettingsPanel(settings, section, interaction.guild, emojis=bot.app_emojis),
        allowed_mentions=NO_MENTIONS,
    )


async def _show(
    interaction: discord.Interaction[Any], section: Section, *, note: str | None = None, role_kind: RoleKind = "on-duty"
) -> None:
    """The panel again, as the settings are now (`note`: what was just saved, shown inside the panel). The message
    becomes a layout: its content and embed (a panel opened before this version) are cleared."""
    bot, guild_id = bot_of(interaction), require_guild(interaction)
    settings = bot.settings.get(guild_id)
    await edit_answer(
        interaction,
        content=None,
        embed=None,
        view=SettingsPanel(settings, section, interaction.guild, role_kind=role_kind, note=note, emojis=bot.app_emojis),
        allowed_mentions=NO_MENTIONS,
    )


def _role_facts_of(interaction: discord.Interaction[Any], role_id: int) -> RoleFacts:
    guild = interaction.guild
    role = guild.get_role(role_id) if guild is not None else None
    if role is None:
        # Only ever removed (a setting may hold a role deleted since): removal checks nothing about the role.
        return RoleFacts(role_id, f"role {role_id}", managed=False, is_everyone=False, above_bot=False)
    return role_facts(interaction, role)


def _role_defaults(role_ids: list[int]) -> list[discord.SelectDefaultValue]:
    return [discord.SelectDefaultValue(id=r, type=discord.SelectDefaultValueType.role) for r in role_ids]


class SettingsPanel(discord.ui.LayoutView):
    """The panel for one section, as a Components V2 layout: one container in the brand colour with the heading,
    the note of what was just saved, the section's values, the section picker and the section's own controls in
    action rows, each ER:LC switch as a section with its button beside its text, and the footer."""

    def __init__(
        self,
        settings: GuildSettings,
        section: Section,
        guild: discord.Guild | None,
        *,
        role_kind: RoleKind = "on-duty",
        note: str | None = None,
        emojis: AppEmojis | None = None,
    ) -> None:
        super().__init__(timeout=PANEL_TIMEOUT)
        box: discord.ui.Container[SettingsPanel] = discord.ui.Container(accent_colour=BRAND)
        box.add_item(discord.ui.TextDisplay(f"## Settings · {SECTIONS[section]}"))
        if note:
            box.add_item(discord.ui.TextDisplay(note))
        values = section_lines(settings, section, emojis)
        if values:
            box.add_item(discord.ui.TextDisplay(values))
        if section == "erlc":
            for key in ERLC_SWITCHES:
                on = bool(settings.value(key))
                text = discord.ui.TextDisplay[SettingsPanel](f"**{LABELS[key]}**: {value_text(key, settings)}")
                box.add_item(discord.ui.Section(text, accessory=ErlcToggle(key, on)))
        box.add_item(discord.ui.TextDisplay(f"-# {HINTS[section]}"))
        box.add_item(discord.ui.Separator())
        for controls in self._controls(settings, section, guild, role_kind):
            box.add_item(discord.ui.ActionRow(*controls))
        box.add_item(discord.ui.TextDisplay(FOOTER))
        self.add_item(box)

    @staticmethod
    def _controls(
        settings: GuildSettings, section: Section, guild: discord.Guild | None, role_kind: RoleKind
    ) -> list[list[discord.ui.Item[Any]]]:
        """The action rows: the section picker, then the section's own (at most five rows)."""
        rows: list[list[discord.ui.Item[Any]]] = [[SectionSelect(section)]]
        if section == "channels":
            for kind in CHANNEL_KINDS:
                current = settings.value(f"channel.{kind}")
                rows.append([channel_picker(kind, current if isinstance(current, int) else None, guild)])
        elif section == "roles":
            rows.append([RoleKindSelect(role_kind)])
            rows.append([role_picker(role_kind, settings, guild)])
        elif section == "departments":
            rows.append([OpenFormButton("department", "Add a department", discord.ButtonStyle.primary)])
            if settings.departments:
                names = [d.name for d in settings.departments]
                rows.append([RemoveSelect("department", "Remove a department…", names)])
        elif section == "codes":
            rows.append([OpenFormButton("code", "Add a code", discord.ButtonStyle.primary)])
            rows.append([RemoveSelect("code", "Remove a code…", [c.code for c in settings.codes])])
        elif section == "duty":
            rows.append([OpenFormButton("duty", "Edit duty rules", discord.ButtonStyle.primary)])
        elif section == "quotas":
            rows.append([ActivityPeriodSelect(settings.activity_period)])
            rows.append([quota_role_picker(guild)])
        elif section == "rosters":
            rows.append([OpenFormButton("rosters", "Edit reminder lead time", discord.ButtonStyle.primary)])
        elif section == "erlc":
            rows.append([OpenFormButton("erlc", "Edit numbers", discord.ButtonStyle.primary)])
        return rows


class SectionSelect(discord.ui.Select[SettingsPanel]):
    def __init__(self, section: Section) -> None:
        super().__init__(
            placeholder="Section",
            options=[
                discord.SelectOption(label=name, value=key, default=key == section) for key, name in SECTIONS.items()
            ],
        )

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        _allowed(interaction)
        section = self.values[0]
        if section not in SECTIONS:
            raise InvalidInput.said("Pick a section from the list.")
        await _show(interaction, section)


def usable_channels(guild: discord.Guild | None) -> list[discord.TextChannel] | None:
    """The text channels the bot can post in (it sees them, sends, embeds), in the server's order; None when the
    server has more than a select holds (then Discord's channel picker, and the setter refuses what the bot cannot
    use) or when there is none to offer."""
    me = guild.me if guild is not None else None
    if guild is None or me is None:
        return None
    found = [
        c for c in guild.text_channels
        if (p := c.permissions_for(me)).view_channel and p.send_messages and p.embed_links
    ]  # fmt: skip
    return found if 0 < len(found) <= MAX_OPTIONS else None


def usable_roles(guild: discord.Guild | None) -> list[discord.Role] | None:
    """The roles the bot can give (below its own highest role, not managed by an integration, not @everyone),
    highest first; None when more than a select holds (then Discord's role picker, and the setter refuses what the
    bot cannot give) or when there is none to offer."""
    me = guild.me if guild is not None else None
    if guild is None or me is None:
        return None
    found = [r for r in guild.roles if not r.is_default() and not r.managed and r < me.top_role]
    found.sort(key=lambda r: r.position, reverse=True)
    return found if 0 < len(found) <= MAX_OPTIONS else None


def channel_picker(kind: ChannelKind, current: int | None, guild: discord.Guild | None) -> discord.ui.Item[Any]:
    """A list of the channels the bot can use, or (a large server) Discord's channel picker of text channels."""
    usable = usable_channels(guild)
    if usable is None:
        return ChannelPick(kind, current)
    return ChannelChoice(kind, current, usable)


async def _save_channel(interaction: discord.Interaction[Any], kind: ChannelKind, picked: list[int]) -> None:
    bot, guild_id = _allowed(interaction)
    label = LABELS[f"channel.{kind}"]
    if not picked:
        await bot.settings.set_channel(guild_id, interaction.user.id, kind, None)
        return await _show(interaction, "channels", note=f"✅ {label}: cleared.")
    guild = interaction.guild
    channel = guild.get_channel(picked[0]) if guild is not None else None
    if channel is None:
        raise InvalidInput.said("I cannot see that channel: pick a text channel I can open.")
    await bot.settings.set_channel(guild_id, interaction.user.id, kind, channel_facts(interaction, channel))
    await _show(interaction, "channels", note=f"✅ {label}: <#{channel.id}>.")


class ChannelChoice(discord.ui.Select[SettingsPanel]):
    def __init__(self, kind: ChannelKind, current: int | None, channels: list[discord.TextChannel]) -> None:
        super().__init__(
            placeholder=f"{LABELS[f'channel.{kind}']}: not set",
            options=[
                discord.SelectOption(label=f"#{c.name}"[:100], value=str(c.id), default=c.id == current)
                for c in channels
            ],
            min_values=0,
            max_values=1,
        )
        self.kind = kind

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await _save_channel(interaction, self.kind, _picked_ids(self.values))


class ChannelPick(discord.ui.ChannelSelect[SettingsPanel]):
    def __init__(self, kind: ChannelKind, current: int | None) -> None:
        kind_of = discord.SelectDefaultValueType.channel
        defaults = [discord.SelectDefaultValue(id=current, type=kind_of)] if current is not None else []
        super().__init__(
            placeholder=f"{LABELS[f'channel.{kind}']}: not set",
            channel_types=TEXT_CHANNELS,
            min_values=0,
            max_values=1,
            default_values=defaults,
        )
        self.kind = kind

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await _save_channel(interaction, self.kind, _picked_ids(self.values))


class RoleKindSelect(discord.ui.Select[SettingsPanel]):
    def __init__(self, kind: RoleKind) -> None:
        super().__init__(
            placeholder="Which role",
            options=[
                discord.SelectOption(label=label, value=key, default=key == kind)
                for key, label in ROLE_KIND_LABELS.items()
            ],
        )

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        _allowed(interaction)
        kind = self.values[0]
        if kind not in ROLE_KINDS:
            raise InvalidInput.said("Pick a role setting from the list.")
        await _show(interaction, "roles", role_kind=kind)


def _held_roles(kind: RoleKind, settings: GuildSettings) -> list[int]:
    if kind == "supervisor":
        return list(settings.supervisor_role_ids)
    single = settings.value(f"role.{kind}")
    return [single] if isinstance(single, int) else []


def role_picker(kind: RoleKind, settings: GuildSettings, guild: discord.Guild | None) -> discord.ui.Item[Any]:
    """A list of the roles the bot can give, or (a large server) Discord's role picker."""
    usable = usable_roles(guild)
    if usable is None:
        return RolePick(kind, settings)
    return RoleChoice(kind, settings, usable)


async def _save_roles(interaction: discord.Interaction[Any], kind: RoleKind, picked: list[int]) -> None:
    bot, guild_id = _allowed(interaction)
    settings = bot.settings
    actor = interaction.user.id
    now = settings.get(guild_id)
    if kind == "supervisor":
        before = list(now.supervisor_role_ids)
        # Removals first: a full list of ten can be swapped in one pick.
        for role_id in [r for r in before if r not in picked]:
            await settings.set_role(guild_id, actor, "supervisor", _role_facts_of(interaction, role_id), remove=True)
        for role_id in [r for r in picked if r not in before]:
            await settings.set_role(guild_id, actor, "supervisor", _picked_role(interaction, role_id))
    else:
        held = now.value(f"role.{kind}")
        if not picked:
            if isinstance(held, int):
                await settings.set_role(guild_id, actor, kind, _role_facts_of(interaction, held), remove=True)
        else:
            await settings.set_role(guild_id, actor, kind, _picked_role(interaction, picked[0]))
    shown = ", ".join(f"<@&{r}>" for r in picked) or "none"
    await _show(interaction, "roles", note=f"✅ {ROLE_KIND_LABELS[kind]}: {shown}.", role_kind=kind)


def _picked_role(interaction: discord.Interaction[Any], role_id: int) -> RoleFacts:
    guild = interaction.guild
    role = guild.get_role(role_id) if guild is not None else None
    if role is None:
        raise InvalidInput.said("I cannot see that role: pick another, or try again in a moment.")
    return role_facts(interaction, role)


class RoleChoice(discord.ui.Select[SettingsPanel]):
    def __init__(self, kind: RoleKind, settings: GuildSettings, roles: list[discord.Role]) -> None:
        held = _held_roles(kind, settings)
        super().__init__(
            placeholder=f"{ROLE_KIND_LABELS[kind]}: none",
            options=[
                discord.SelectOption(label=f"@{r.name}"[:100], value=str(r.id), default=r.id in held) for r in roles
            ],
            min_values=0,
            max_values=min(len(roles), MAX_SUPERVISOR_PICKS) if kind == "supervisor" else 1,
        )
        self.kind = kind

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await _save_roles(interaction, self.kind, _picked_ids(self.values))


class RolePick(discord.ui.RoleSelect[SettingsPanel]):
    def __init__(self, kind: RoleKind, settings: GuildSettings) -> None:
        self.kind = kind
        super().__init__(
            placeholder=f"{ROLE_KIND_LABELS[kind]}: none",
            min_values=0,
            max_values=MAX_SUPERVISOR_PICKS if kind == "supervisor" else 1,
            default_values=_role_defaults(_held_roles(kind, settings)),
        )

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await _save_roles(interaction, self.kind, _picked_ids(self.values))


class RemoveSelect(discord.ui.Select[SettingsPanel]):
    """Removes a department or a code (the one picked)."""

    def __init__(self, what: Literal["department", "code"], placeholder: str, names: list[str]) -> None:
        super().__init__(
            placeholder=placeholder,
            options=[discord.SelectOption(label=name[:100], value=name[:100]) for name in names[:25]],
        )
        self.what = what

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        bot, guild_id = _allowed(interaction)
        name = self.values[0]
        if self.what == "department":
            await bot.settings.remove_department(guild_id, interaction.user.id, name)
            return await _show(interaction, "departments", note=f"✅ Department removed: {name}.")
        await bot.settings.remove_code(guild_id, interaction.user.id, name)
        await _show(interaction, "codes", note=f"✅ Code removed: {name}.")


class ActivityPeriodSelect(discord.ui.Select[SettingsPanel]):
    def __init__(self, current: ActivityPeriod) -> None:
        super().__init__(
            placeholder="Activity period",
            options=[
                discord.SelectOption(label=f"Activity period: {p}", value=p, default=p == current)
                for p in get_args(ActivityPeriod)
            ],
        )

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        bot, guild_id = _allowed(interaction)
        period = self.values[0]
        if period not in get_args(ActivityPeriod):
            raise InvalidInput.said("Pick a period from the list.")
        await bot.settings.set_shifts(guild_id, interaction.user.id, activity_period=period)  # type: ignore[arg-type]
        bot.activity_reports.poke()  # a new period may make a report due now
        await _show(interaction, "quotas", note=f"✅ Activity period: {period}.")


def quota_role_picker(guild: discord.Guild | None) -> discord.ui.Item[Any]:
    """The server's roles (a quota role need not be one the bot gives), or Discord's role picker when too many."""
    roles = [r for r in guild.roles if not r.is_default()] if guild is not None else []
    if 0 < len(roles) <= MAX_OPTIONS:
        return QuotaRoleChoice(sorted(roles, key=lambda r: r.position, reverse=True))
    return QuotaRolePick()


class QuotaRoleChoice(discord.ui.Select[SettingsPanel]):
    def __init__(self, roles: list[discord.Role]) -> None:
        super().__init__(
            placeholder="Set or remove a role's quota…",
            options=[discord.SelectOption(label=f"@{r.name}"[:100], value=str(r.id)) for r in roles],
        )

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        _allowed(interaction)
        [role_id] = _picked_ids(self.values)
        await send_modal(interaction, QuotaForm(role_id))


class QuotaRolePick(discord.ui.RoleSelect[SettingsPanel]):
    def __init__(self) -> None:
        super().__init__(placeholder="Set or remove a role's quota…", min_values=1, max_values=1)

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        _allowed(interaction)
        [role_id] = _picked_ids(self.values)
        await send_modal(interaction, QuotaForm(role_id))


class ErlcToggle(discord.ui.Button[SettingsPanel]):
    """An ER:LC switch's button, beside the text that says the setting and its state: it says what a press does."""

    def __init__(self, key: str, on: bool) -> None:
        super().__init__(
            label="Turn off" if on else "Turn on",
            style=discord.ButtonStyle.secondary if on else discord.ButtonStyle.success,
        )
        self.key, self.on = key, on

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        bot, guild_id = _allowed(interaction)
        actor, settings = interaction.user.id, bot.settings
        turn_on = not settings.get(guild_id).value(self.key)  # as it is now, not as the button was drawn
        if self.key == "erlc.calls_to_cad":
            await settings.set_erlc_calls_to_cad(guild_id, actor, turn_on)
        elif self.key == "erlc.in_game_required":
            await settings.set_erlc_in_game_required(guild_id, actor, turn_on)
        elif self.key == "erlc.status_from_game":
            await settings.set_erlc_status_from_game(guild_id, actor, turn_on)
        elif self.key == "erlc.quota_in_game":
            await settings.set_erlc_quota_in_game(guild_id, actor, turn_on)
        else:
            await settings.set_erlc_auto_duty(guild_id, actor, turn_on)
        await _show(interaction, "erlc", note=f"✅ {LABELS[self.key]}: {'on' if turn_on else 'off'}.")


FormKind = Literal["department", "code", "duty", "rosters", "erlc"]


class OpenFormButton(discord.ui.Button[SettingsPanel]):
    def __init__(self, form: FormKind, label: str, style: discord.ButtonStyle) -> None:
        super().__init__(label=label, style=style)
        self.form = form

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        bot, guild_id = _allowed(interaction)
        settings = bot.settings.get(guild_id)
        forms: dict[FormKind, discord.ui.Modal] = {
            "department": DepartmentForm(),
            "code": CodeForm(),
            "duty": DutyForm(settings),
            "rosters": RosterForm(settings),
            "erlc": ErlcForm(settings),
        }
        await send_modal(interaction, forms[self.form])


# --- the forms: each field labelled (discord.py 2.6's ui.Label), fixed choices as selects --------------------


def _labelled(
    modal: discord.ui.Modal, text: str, component: discord.ui.Item[Any], description: str | None = None
) -> None:
    modal.add_item(discord.ui.Label(text=text, component=component, description=description))


def _number(text: str, what: str) -> float:
    try:
        value = float(text.strip().replace(",", "."))
    except ValueError:
        raise InvalidInput.said(
            f"{what} is a number, e.g. 12 (you wrote “{text.strip()[:20]}”). Nothing was changed."
        ) from None
    if value != value or value in (float("inf"), float("-inf")):
        raise InvalidInput.said(f"{what} is a number, e.g. 12. Nothing was changed.")
    return value


def _whole(text: str, what: str) -> int:
    value = _number(text, what)
    if value != int(value):
        raise InvalidInput.said(f"{what} is a whole number, e.g. 30. Nothing was changed.")
    return int(value)


def _choice(placeholder: str, options: dict[str, str], current: str | None) -> discord.ui.Select[Any]:
    return discord.ui.Select(
        placeholder=placeholder,
        options=[
            discord.SelectOption(label=label, value=value, default=value == current) for value, label in options.items()
        ],
        required=True,
    )


class DepartmentForm(discord.ui.Modal, title="Add a department"):
    def __init__(self) -> None:
        super().__init__(timeout=PANEL_TIMEOUT)
        self.name = discord.ui.TextInput[Any](max_length=100)
        self.quota = discord.ui.TextInput[Any](required=False, max_length=10, placeholder="e.g. 5 (optional)")
        _labelled(self, "Name", self.name)
        _labelled(self, "Weekly quota in hours", self.quota, "Hours a week expected; leave empty for none")

    @guarded
    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        bot, guild_id = _allowed(interaction)
        quota = _number(self.quota.value, "The weekly quota") if self.quota.value.strip() else None
        after = await bot.settings.add_department(guild_id, interaction.user.id, self.name.value, None, quota)
        await _show(interaction, "departments", note=f"✅ Department added: {after.departments[-1].name}.")


class CodeForm(discord.ui.Modal, title="Add a 10-code"):
    def __init__(self) -> None:
        super().__init__(timeout=PANEL_TIMEOUT)
        self.code = discord.ui.TextInput[Any](max_length=40, placeholder="e.g. 10-99")
        self.label = discord.ui.TextInput[Any](max_length=100, placeholder="e.g. Officer needs help")
        self.style = _choice("Button colour", {k: v for k, v in STYLE_NAMES.items()}, "secondary")
        _labelled(self, "Code", self.code)
        _labelled(self, "What it means", self.label)
        _labelled(self, "Button colour", self.style)

    @guarded
    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        bot, guild_id = _allowed(interaction)
        style = (self.style.values or ["secondary"])[0]
        if style not in STYLE_NAMES:
            raise InvalidInput.said("Pick a button colour from the list.")
        await bot.settings.add_code(guild_id, interaction.user.id, self.code.value, self.label.value, style)
        await _show(interaction, "codes", note=f"✅ Code added: {self.code.value.strip()}.")


WEEKDAYS: dict[str, str] = {day: day.capitalize() for day in get_args(WeekStart)}
OFF_DUTY_NAMES: dict[str, str] = {"prompt": "Ask to start a shift", "allow": "Allow the status"}
YES_NO: dict[str, str] = {"yes": "Yes", "no": "No"}


class DutyForm(discord.ui.Modal, title="Duty rules"):
    def __init__(self, settings: GuildSettings) -> None:
        super().__init__(timeout=PANEL_TIMEOUT)
        self.max_hours = discord.ui.TextInput[Any](max_length=6, default=f"{settings.max_shift_hours:g}")
        self.timezone = discord.ui.TextInput[Any](max_length=64, default=settings.timezone)
        self.week_start = _choice("First day of the week", WEEKDAYS, settings.week_start)
        self.off_duty = _choice("Status click while off duty", OFF_DUTY_NAMES, settings.off_duty)
        self.leave_blocks = _choice("Leave blocks going on duty", YES_NO, "yes" if settings.leave_blocks_duty else "no")
        _labelled(self, "Maximum shift length (hours)", self.max_hours, "Longer shifts end by themselves (up to 72)")
        _labelled(self, "Time zone", self.timezone, "A city's zone, e.g. Europe/London or America/New_York")
        _labelled(self, "First day of the week", self.week_start)
        _labelled(self, "Status click while off duty", self.off_duty)
        _labelled(self, "Leave blocks going on duty", self.leave_blocks)

    @guarded
    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        bot, guild_id = _allowed(interaction)
        week = self.week_start.values[0] if self.week_start.values else None
        off = self.off_duty.values[0] if self.off_duty.values else None
        blocks = self.leave_blocks.values[0] if self.leave_blocks.values else None
        if (week is not None and week not in WEEKDAYS) or (off is not None and off not in OFF_DUTY_NAMES):
            raise InvalidInput.said("Pick from the lists. Nothing was changed.")
        await bot.settings.set_shifts(
            guild_id,
            interaction.user.id,
            max_hours=_number(self.max_hours.value, "The maximum shift length"),
            timezone=self.timezone.value,
            week_start=week,  # type: ignore[arg-type]
            off_duty=off,  # type: ignore[arg-type]
            leave_blocks_duty=None if blocks is None else blocks == "yes",
        )
        bot.activity_reports.poke()
        await _show(interaction, "duty", note="✅ Duty rules saved.")


class RosterForm(discord.ui.Modal, title="Roster reminders"):
    def __init__(self, settings: GuildSettings) -> None:
        super().__init__(timeout=PANEL_TIMEOUT)
        self.minutes = discord.ui.TextInput[Any](max_length=4, default=str(settings.roster_reminder_minutes))
        _labelled(self, "Minutes before a shift", self.minutes, "When members are reminded (1 to 1440)")

    @guarded
    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        bot, guild_id = _allowed(interaction)
        minutes = _whole(self.minutes.value, "The lead time")
        await bot.settings.set_roster_reminder_minutes(guild_id, interaction.user.id, minutes)
        await _show(interaction, "rosters", note=f"✅ Members are reminded {minutes} min before their shifts.")


class ErlcForm(discord.ui.Modal, title="ER:LC numbers"):
    def __init__(self, settings: GuildSettings) -> None:
        super().__init__(timeout=PANEL_TIMEOUT)
        self.days = discord.ui.TextInput[Any](max_length=4, default=str(settings.erlc_presence_days))
        self.gamelock = discord.ui.TextInput[Any](max_length=4, default=str(settings.erlc_gamelock_minutes))
        _labelled(self, "Presence history kept (days)", self.days)
        _labelled(self, "Gamelock (minutes, 0: off)", self.gamelock, "Off duty after this long out of the game")

    @guarded
    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        bot, guild_id = _allowed(interaction)
        days = _whole(self.days.value, "The presence history")
        minutes = _whole(self.gamelock.value, "The gamelock grace")
        now = bot.settings.get(guild_id)
        if days != now.erlc_presence_days:
            await bot.settings.set_erlc_presence_days(guild_id, interaction.user.id, days)
        if minutes != now.erlc_gamelock_minutes:
            await bot.settings.set_erlc_gamelock_minutes(guild_id, interaction.user.id, minutes)
        await _show(interaction, "erlc", note="✅ ER:LC numbers saved.")


class QuotaForm(discord.ui.Modal, title="Role quota"):
    def __init__(self, role_id: int) -> None:
        super().__init__(timeout=PANEL_TIMEOUT)
        self.role_id = role_id
        self.hours = discord.ui.TextInput[Any](required=False, max_length=6, placeholder="e.g. 5; empty: no quota")
        _labelled(self, "Hours per activity period", self.hours, "Leave empty to remove the role's quota")

    @guarded
    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        bot, guild_id = _allowed(interaction)
        text = self.hours.value.strip()
        hours = _number(text, "The quota") if text else None
        facts = _role_facts_of(interaction, self.role_id)
        if hours is not None and (interaction.guild is None or interaction.guild.get_role(self.role_id) is None):
            raise InvalidInput.said("I cannot see that role: pick another. Nothing was changed.")
        await bot.settings.set_role_quota(guild_id, interaction.user.id, facts, hours)
        bot.activity_reports.poke()
        what = f"{hours:g} h per activity period" if hours is not None else "no quota"
        await _show(interaction, "quotas", note=f"✅ <@&{self.role_id}>: {what}.")
