"""The user actions: ``Harness`` drives a logged-in bot as Discord would (slash commands,
autocomplete, button and select clicks, modal submits) and returns what it answered (``Reply``)."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Mapping, Sequence
from typing import Any, Self

import discord
from discord import app_commands

from . import builders
from .discord_routes import RouteHandler
from .fake_api import FakeDiscord
from .gateway import ErrorLog, GatewayMirror
from .recorded import Reply, custom_ids, walk_components

__all__ = ["Harness", "MessageLike"]

MessageLike = Mapping[str, Any] | Reply


class Harness(GatewayMirror):
    """Drive a logged-in bot as Discord would: inject interactions, read what it answered.

    ``bot`` must have done ``await bot.login(token)`` against ``fake`` (never ``connect()``).
    Role changes the bot makes through the fake are applied to the guild cache like the
    gateway's GUILD_MEMBER_UPDATE would (``enforce_role_hierarchy`` also makes them fail
    with 403 like Discord when the bot lacks Manage Roles or the role is not below its top role).
    """

    def __init__(
        self,
        bot: discord.Client,
        fake: FakeDiscord,
        *,
        timeout: float = 10.0,
        enforce_role_hierarchy: bool = True,
    ) -> None:
        if bot.user is None:
            raise RuntimeError("log the bot in against the fake first: await bot.login('token')")
        self.bot = bot
        self.fake = fake
        self.timeout = timeout
        self.enforce_role_hierarchy = enforce_role_hierarchy
        self.state = bot._connection
        self.app_id: int = bot.application_id or fake.application_id
        self.default_guild_id: int | None = None
        self._default_channels: dict[int, int] = {}
        self._payload_roles: dict[tuple[int, int], list[str]] = {}  # last roles a test sent per member
        self._store_changed = asyncio.Event()
        self._hooked_store: Any = None
        self._errors = ErrorLog()
        self._error_users = 0
        self._routes: list[RouteHandler] = [
            fake.route("PUT", r"^/guilds/(?P<gid>\d+)/members/(?P<uid>\d+)/roles/(?P<rid>\d+)$", self._on_role),
            fake.route("DELETE", r"^/guilds/(?P<gid>\d+)/members/(?P<uid>\d+)/roles/(?P<rid>\d+)$", self._on_role),
            fake.route("PATCH", r"^/guilds/(?P<gid>\d+)/members/(?P<uid>\d+)$", self._on_member_patch),
        ]
        self._hook_view_store()

    def close(self) -> None:
        """Remove the harness's fake routes and view-store hook (the bot is left as is)."""
        for handler in self._routes:
            self.fake.remove_route(handler)
        store = self._hooked_store
        if store is not None:
            store.__dict__.pop("add_view", None)
            store.__dict__.pop("add_dynamic_items", None)
        self._hooked_store = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    # --- guild cache ---------------------------------------------------------------------

    def add_guild(
        self,
        guild_id: int,
        *,
        name: str = "Test Guild",
        owner_id: int,
        roles: Sequence[Mapping[str, Any]] = (),
        members: Sequence[Mapping[str, Any]] = (),
        channels: Sequence[Mapping[str, Any]] | None = None,
        me_permissions: int = builders.DEFAULT_APP_PERMISSIONS,
        me_role_position: int | None = None,
        available: bool = False,
    ) -> discord.Guild:
        """Put a real ``discord.Guild`` in the bot's cache (as GUILD_CREATE would).

        ``roles``/``members``/``channels`` are ``builders.role/member/channel`` payloads;
        ``@everyone`` is added if missing, and one text channel if ``channels`` is None.
        The bot joins as a member with a managed role granting ``me_permissions``, placed
        above all ``roles`` unless ``me_role_position`` says otherwise. The first guild added
        becomes ``default_guild_id``. ``available``: sent through the gateway's own GUILD_CREATE parser with
        ``unavailable: false``, as Discord announces a guild after a start or an outage (``on_guild_available``
        is dispatched); otherwise the guild is cached silently.
        """
        assert self.bot.user is not None
        if channels is None:
            channels = [builders.channel(builders.snowflake(), guild_id=guild_id, name="general")]
        top = max((int(r.get("position", 0)) for r in roles), default=0)
        bot_role = builders.role(
            builders.snowflake(),
            self.bot.user.name,
            permissions=me_permissions,
            position=top + 1 if me_role_position is None else me_role_position,
            managed=True,
            tags={"bot_id": str(self.bot.user.id)},
        )
        me = builders.member(self.bot.user.id, roles=[int(bot_role["id"])], username=self.bot.user.name, bot=True)
        data = builders.guild_payload(
            guild_id,
            name=name,
            owner_id=owner_id,
            roles=[*roles, bot_role],
            members=[*members, me],
            channels=channels,
        )
        if available:
            # Members are cached as if chunked: the count covers those already cached, so discord.py sees the
            # guild chunked (it would otherwise ask the gateway for them before dispatching).
            cached = self.state._get_guild(guild_id)
            member_ids = {int(m["user"]["id"]) for m in data["members"]}
            member_ids |= {m.id for m in cached.members} if cached is not None else set()
            self.state.parse_guild_create({**data, "member_count": len(member_ids), "unavailable": False})
            guild: discord.Guild = self.state._get_guild(guild_id)
        else:
            guild = self.state._add_guild_from_data(data)
        # Members are cached regardless of the members intent, as if chunked.
        for m in data["members"]:
            if guild.get_member(int(m["user"]["id"])) is None:
                guild._add_member(discord.Member(data=m, guild=guild, state=self.state))
            self._payload_roles[(guild_id, int(m["user"]["id"]))] = list(m["roles"])
        for c in data["channels"]:
            self.fake.channel_guilds[int(c["id"])] = guild_id
        if data["channels"]:
            self._default_channels[guild_id] = int(data["channels"][0]["id"])
        if self.default_guild_id is None:
            self.default_guild_id = guild_id
        return guild

    # --- user actions -----------------------------------------------------------------------

    async def slash(
        self,
        name: str,
        /,
        *,
        group: str | None = None,
        sub: str | None = None,
        member: Mapping[str, Any] | None = None,
        user: Mapping[str, Any] | None = None,
        guild_id: int | None = None,
        channel_id: int | None = None,
        options: Mapping[str, Any] | None = None,
        resolved: Mapping[str, Any] | None = None,
        app_permissions: int | None = None,
        locale: str = "en-US",
        timeout: float | None = None,
        **kwoptions: Any,
    ) -> Reply:
        """Run ``/name [group] [sub] option=value...`` and return the initial callback.

        ``name`` may also be the full path (``"duty shift start"``). Options are keyword
        arguments, or ``options={...}`` for names that clash with this signature.
        """
        name, group, sub = self._split(name, group, sub)
        ctx = self._where(member, user, guild_id, channel_id, app_permissions)
        opts = self._typed_options(name, group, sub, ctx["guild_id"], {**(options or {}), **kwoptions})
        payload = builders.slash_payload(
            name,
            app_id=self.app_id,
            group=group,
            sub=sub,
            options=opts,
            resolved=resolved,
            locale=locale,
            command_guild_id=self._command_guild(name, ctx["guild_id"]),
            **ctx,
        )
        return await self._inject(payload, f"/{' '.join(p for p in (name, group, sub) if p)}", timeout)

    async def autocomplete(
        self,
        name: str,
        /,
        *,
        focused: str | None = None,
        group: str | None = None,
        sub: str | None = None,
        member: Mapping[str, Any] | None = None,
        user: Mapping[str, Any] | None = None,
        guild_id: int | None = None,
        channel_id: int | None = None,
        options: Mapping[str, Any] | None = None,
        app_permissions: int | None = None,
        timeout: float | None = None,
        **kwoptions: Any,
    ) -> list[dict[str, Any]]:
        """Type into option ``focused`` (default: the last option given) and return the
        choices the bot offers (``[{"name": ..., "value": ...}, ...]``)."""
        name, group, sub = self._split(name, group, sub)
        all_options = {**(options or {}), **kwoptions}
        if not all_options:
            raise ValueError("autocomplete needs the focused option's partial value")
        focused = focused or list(all_options)[-1]
        ctx = self._where(member, user, guild_id, channel_id, app_permissions)
        opts = self._typed_options(name, group, sub, ctx["guild_id"], all_options, focused=focused)
        payload = builders.autocomplete_payload(
            name,
            focused=focused,
            app_id=self.app_id,
            group=group,
            sub=sub,
            options=opts,
            command_guild_id=self._command_guild(name, ctx["guild_id"]),
            **ctx,
        )
        reply = await self._inject(payload, f"autocomplete /{name} {focused}", timeout)
        if reply.callback_type != 8:
            raise AssertionError(f"expected an autocomplete answer (type 8), got {reply!r}")
        if reply.status != 200:
            raise AssertionError(f"Discord refused the autocomplete answer: {reply.request.response}")
        return reply.choices

    async def click(
        self,
        custom_id: str,
        /,
        *,
        message: MessageLike,
        member: Mapping[str, Any] | None = None,
        user: Mapping[str, Any] | None = None,
        guild_id: int | None = None,
        channel_id: int | None = None,
        component_type: int | None = None,
        values: Sequence[str] | None = None,
        app_permissions: int | None = None,
        timeout: float | None = None,
        view_wait: float = 2.0,
    ) -> Reply:
        """Click button ``custom_id`` (or pick ``values`` in a string select) on ``message``
        (a message payload or a ``Reply``). The message's current state in the fake is used,
        as Discord sends the message as it is now.

        Responses that carry a view are stored by discord.py only after the HTTP answer is
        processed; the click therefore waits up to ``view_wait`` s, event-driven, until the
        bot's view store can dispatch it (0 to skip, e.g. to test an expired view).
        """
        msg = self._message_dict(message)
        comp = next((c for c in walk_components(msg.get("components")) if c.get("custom_id") == custom_id), None)
        if msg.get("components") and comp is None:
            raise ValueError(f"message {msg['id']} has no component {custom_id!r}; has {custom_ids(msg['components'])}")
        if comp is not None and comp.get("disabled"):
            raise ValueError(f"component {custom_id!r} is disabled: Discord would not send this click")
        if component_type is None:
            component_type = int(comp["type"]) if comp is not None else (3 if values is not None else 2)
        if guild_id is None and member is not None and msg.get("guild_id"):
            guild_id = int(msg["guild_id"])  # the click happens where the message is
        ctx = self._where(member, user, guild_id, channel_id or int(msg["channel_id"]), app_permissions)
        payload = builders.click_payload(
            custom_id,
            app_id=self.app_id,
            message=msg,
            component_type=component_type,
            values=values,
            **ctx,
        )
        if view_wait > 0:
            await self._wait_dispatchable(lambda: self._view_ready(component_type, custom_id, msg), view_wait)
        return await self._inject(payload, f"click {custom_id!r} on message {msg['id']}", timeout)

    async def submit_modal(
        self,
        modal: Reply | str,
        values: Mapping[str, str | Sequence[str]],
        *,
        message: MessageLike | None = None,
        member: Mapping[str, Any] | None = None,
        user: Mapping[str, Any] | None = None,
        guild_id: int | None = None,
        channel_id: int | None = None,
        timeout: float | None = None,
        view_wait: float = 2.0,
    ) -> Reply:
        """Submit the modal a previous reply opened (callback type 9). ``values`` maps each
        text input's custom_id *or label* to the text typed, or a select's (in a Label) to the values picked (a
        list). ``message``: the message whose component opened the modal (Discord sends it along, and the bot may
        answer by updating it, callback type 7)."""
        if isinstance(modal, Reply):
            if modal.modal is None:
                raise ValueError(f"{modal!r} did not open a modal")
            custom_id = str(modal.modal["custom_id"])
            labels = self._modal_labels(modal.modal.get("components") or [])
        else:
            custom_id, labels = modal, {}
        by_id = {labels.get(k, k): v for k, v in values.items()}
        ctx = self._where(member, user, guild_id, channel_id, None)
        ctx.pop("app_permissions", None)
        origin = self._message_dict(message) if message is not None else None
        payload = builders.modal_submit_payload(custom_id, app_id=self.app_id, values=by_id, message=origin, **ctx)
        if view_wait > 0:
            await self._wait_dispatchable(
                lambda: custom_id in getattr(self.state._view_store, "_modals", {}), view_wait
            )
        return await self._inject(payload, f"modal {custom_id!r}", timeout)

    async def inject(self, payload: Mapping[str, Any], *, timeout: float | None = None) -> Reply:
        """Inject a hand-built INTERACTION_CREATE payload and wait for its callback."""
        return await self._inject(payload, f"interaction {payload.get('id')}", timeout)

    # --- internals ----------------------------------------------------------------------

    @staticmethod
    def _split(name: str, group: str | None, sub: str | None) -> tuple[str, str | None, str | None]:
        parts = name.split()
        if len(parts) == 3:
            return parts[0], parts[1], parts[2]
        if len(parts) == 2:
            return parts[0], group, parts[1]
        return name, group, sub

    def _where(
        self,
        member: Mapping[str, Any] | None,
        user: Mapping[str, Any] | None,
        guild_id: int | None,
        channel_id: int | None,
        app_permissions: int | None,
    ) -> dict[str, Any]:
        """Builder keywords for where the interaction happens (guild or DM) and who does it."""
        if member is not None and user is not None:
            raise ValueError("pass member= (guild) or user= (DM), not both")
        if member is not None:
            guild_id = guild_id if guild_id is not None else self.default_guild_id
            if guild_id is None:
                raise ValueError("member= needs guild_id= (or add_guild() first)")
            member = self._sync_member(guild_id, member)
        elif user is None:
            raise ValueError("pass member= (guild) or user= (DM)")
        else:
            guild_id = None
        guild = self.state._get_guild(guild_id) if guild_id is not None else None
        if app_permissions is None:
            me = guild.me if guild is not None else None
            app_permissions = me.guild_permissions.value if me is not None else builders.DEFAULT_APP_PERMISSIONS
        if channel_id is None:
            channel_id = self._default_channels.get(guild_id or 0, builders.DEFAULT_CHANNEL_ID)
        return {
            "guild_id": guild_id,
            "member": member,
            "user": user,
            "channel_id": channel_id,
            "app_permissions": app_permissions,
        }

    def _command_guild(self, name: str, guild_id: int | None) -> int | None:
        """``data.guild_id`` for a command registered only to this guild (tree lookup)."""
        tree = self.state._command_tree
        if tree is None or guild_id is None or tree.get_command(name) is not None:
            return None
        return guild_id if tree.get_command(name, guild=discord.Object(guild_id)) is not None else None

    def _typed_options(
        self,
        name: str,
        group: str | None,
        sub: str | None,
        guild_id: int | None,
        options: Mapping[str, Any],
        *,
        focused: str | None = None,
    ) -> dict[str, Any]:
        """Check the options against the command in ``bot.tree`` (catching test typos early,
        where discord.py would only log an error) and give plain values the option type the
        command declares (e.g. an int for a ``float`` parameter becomes a number option), as
        Discord's client would."""
        params = self._declared_params(name, group, sub, guild_id)
        if params is None:
            return dict(options)
        path = " ".join(p for p in (name, group, sub) if p)
        unknown = [k for k in options if k not in params]
        if unknown:
            raise ValueError(f"/{path} has no option(s) {unknown}; it has {sorted(params)}")
        missing = [k for k, (_, required) in params.items() if required and k not in options]
        if missing and focused is None:
            raise ValueError(f"/{path} requires option(s) {missing}")
        out: dict[str, Any] = {}
        for key, value in options.items():
            t = params[key][0]
            if isinstance(value, (str, int, float)) and not isinstance(value, bool):
                if key == focused:
                    value = builders.Opt(str(value), t)  # Discord sends the raw text typed so far
                elif t == 3:
                    value = builders.Opt(str(value), 3)
                elif t == 10:
                    value = builders.Opt(float(value), 10)
            out[key] = value
        return out

    def _declared_params(
        self, name: str, group: str | None, sub: str | None, guild_id: int | None
    ) -> dict[str, tuple[int, bool]] | None:
        """option name -> (option type, required) from ``bot.tree``; None without a tree."""
        tree = self.state._command_tree
        if tree is None:
            return None
        cmd: Any = tree.get_command(name, guild=discord.Object(guild_id)) if guild_id else None
        if cmd is None:
            cmd = tree.get_command(name)
        for part in (group, sub):
            if part is not None:
                cmd = cmd.get_command(part) if isinstance(cmd, app_commands.Group) else None
        if not isinstance(cmd, app_commands.Command):
            path = " ".join(p for p in (name, group, sub) if p)
            raise ValueError(f"no chat-input command /{path} in bot.tree (use Harness.inject for odd payloads)")
        return {p.display_name: (p.type.value, p.required) for p in cmd.parameters}

    def _message_dict(self, message: MessageLike) -> dict[str, Any]:
        if isinstance(message, Reply):
            if message.message is None:
                raise ValueError(f"{message!r} has no message to click on")
            message = message.message
        mid = int(message["id"])
        current = self.fake.messages.get(mid)
        return copy.deepcopy(current if current is not None else dict(message))

    @staticmethod
    def _modal_labels(components: Sequence[Mapping[str, Any]]) -> dict[str, str]:
        """label -> custom_id for the modal's text inputs (legacy rows and Label components)."""
        labels: dict[str, str] = {}
        for comp in walk_components(components):
            if comp.get("type") == 18 and isinstance(comp.get("component"), Mapping):  # Label
                inner = comp["component"]
                if "custom_id" in inner and comp.get("label"):
                    labels[str(comp["label"])] = str(inner["custom_id"])
            elif comp.get("type") == 4 and comp.get("label") and "custom_id" in comp:
                labels[str(comp["label"])] = str(comp["custom_id"])
        return labels
