"""The one place that turns errors into what a user reads, answers interactions within Discord's limits, plus
permission checks shared by slash commands and the buttons that stand for them.

Answering in time: Discord forgets an interaction whose first answer has not come within 3 s ("The application did
not respond"), whatever the handler was waiting for (a write-locked SQLite file, a busy PostgreSQL, Northca). One
rule covers every command, button and form: when the handler has not answered within `DEFER_AFTER_SECONDS`, the
framework defers for it (a command or a form: "thinking…", privately; a button: the click acknowledged), and the
handler's answer then goes in as an edit or a followup. `answer_in_time` arms the rule: the command tree's
`interaction_check` (bot/discord/bot.py) for every command, `guarded` for every button, select and form. Handlers
answer only
through `answer`, `edit_answer`, `defer` and `send_modal` here: they share one lock per interaction with the
framework's deferral, so the two never both send a first answer.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeVar

import discord
from discord import app_commands

from bot.core.errors import GuildOnly, MissingPermission, UserFacingError
from bot.core.foreground import Foreground
from bot.core.supervisors import is_supervisor
from bot.discord.answer_calls import edit_first_answer, first_answer
from bot.discord.discord_text import fit, fit_content, fit_embed, fit_view, quoted
from bot.northca.errors import (
    NorthcaError,
)
from bot.wording import DISCORD, error_text, northca_text

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])
T = TypeVar("T")
V = TypeVar("V", bound=discord.ui.View | discord.ui.LayoutView)
MISSING: Any = discord.utils.MISSING
# Discord's "Invalid Form Body": the message itself was refused (a text too long, a bad field).
INVALID_FORM_BODY = 50035
# How the answer to an unexpected error begins (the benchmarks count these answers).
GENERIC_ERROR_START = "Something went wrong"
# Discord's "Unknown interaction": the first answer came after the interaction's 3 s (an overloaded process).
UNKNOWN_INTERACTION = 10062
REFUSED_NOTE = "(Discord refused the full answer; the bot's log has the details.)"
# Discord allows 3 s for the first answer; this leaves room for the deferral's own round trip on a slow link.
DEFER_AFTER_SECONDS = 1.5
# The private "thinking…" placeholder the framework put up, when the handler's answer is for everyone to see.
POSTED_PUBLICLY = "Done: the answer is posted in this channel."
RESTARTING = "The bot is restarting. Try again in a minute; nothing you did before is lost."


def northca_message(exc: NorthcaError) -> str:
    """Northca's error for Discord (its own words cut to fit Discord's limits)."""
    return northca_text(exc, DISCORD, quoted)


def user_message(error: BaseException) -> tuple[str, bool]:
    """The message for an error, and whether it was expected (False: log with a trace id)."""
    original: BaseException = getattr(error, "original", error)
    if isinstance(original, UserFacingError):
        return error_text(original), True
    if isinstance(original, NorthcaError):
        return northca_message(original), True
    if isinstance(original, app_commands.NoPrivateMessage):
        return error_text(GuildOnly()), True
    if isinstance(original, app_commands.MissingPermissions):
        names = ", ".join(p.replace("_", " ").replace("guild", "server").title() for p in original.missing_permissions)
        return f"You need the {names} permission to use this.", True
    if isinstance(original, app_commands.BotMissingPermissions):
        names = ", ".join(p.replace("_", " ").replace("guild", "server").title() for p in original.missing_permissions)
        return f"The bot needs the {names} permission here. Ask an admin to grant it.", True
    if isinstance(original, app_commands.CommandOnCooldown):
        return f"Slow down: try again in {original.retry_after:.0f} s.", True
    if isinstance(original, app_commands.CheckFailure):
        return "You can't use this here.", True
    return "", False


def answered_too_late(error: BaseException) -> bool:
    """Discord no longer knows the interaction: any other answer to it (an error message) is refused the same way."""
    original: BaseException = getattr(error, "original", error)
    return isinstance(original, discord.NotFound) and original.code == UNKNOWN_INTERACTION


async def report_error(interaction: discord.Interaction, error: BaseException) -> None:
    if answered_too_late(error):
        # What the command did before answering is kept (a /shift start stays open: /shift status shows it).
        log.warning(
            "%s was answered too late (Discord: Unknown interaction); its work is kept, no error message is sent",
            _describe(interaction),
        )
        return
    message, expected = user_message(error)
    if not expected:
        trace = uuid.uuid4().hex[:8]
        log.error("unexpected error [trace %s] in %s", trace, _describe(interaction), exc_info=error)
        message = (
            f"{GENERIC_ERROR_START} on our side (trace `{trace}`)."
            " Try again; if it keeps happening, give this code to the bot's admins."
        )
    else:
        log.info("told %s: %s", _describe(interaction), message)
    try:
        await answer(interaction, message, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not deliver an error message for %s", _describe(interaction), exc_info=True)


# --- answering in time ---------------------------------------------------------------------

DeferredKind = Literal["thinking", "update"]


@dataclass
class _Answering:
    """What has been answered for one interaction (kept in `interaction.extras`)."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # What the framework sent for a handler too slow to answer: "thinking" (a command or a form: a private loading
    # message the answer replaces) or "update" (a button: the click acknowledged; the message stays as it is).
    deferred: DeferredKind | None = None
    answered_after_defer: bool = False
    # A button handler asked for an answer message of its own ("thinking") after the framework had acknowledged the
    # click: its first answer creates that message (`message`), and its edits go there, not to the clicked message.
    own_message_ephemeral: bool | None = None
    message: discord.WebhookMessage | None = None
    finished: bool = False
    # Tells the bot's Foreground (bot/core/foreground.py) this person has a first answer (more calls: nothing).
    answered: Callable[[], None] = field(default_factory=lambda: _nothing)

    def finish(self) -> None:
        """The handler is done: the answer-in-time rule no longer applies."""
        self.finished = True
        self.answered()

    def answered_if_done(self, interaction: discord.Interaction) -> None:
        if interaction.response.is_done():
            self.answered()


_ANSWERING = "northca.answering"
# The framework's deferrals in flight (kept referenced until done).
_deferrals: set[asyncio.Task[None]] = set()


def _answering(interaction: discord.Interaction) -> _Answering:
    state = interaction.extras.get(_ANSWERING)
    if not isinstance(state, _Answering):
        state = interaction.extras[_ANSWERING] = _Answering()
    return state


class _DueDeferrals:
    """The answer-in-time deadlines of one event loop, in one queue with one timer. Every deadline is the same span
    after its interaction arrived, so they come due in the order they were armed: a deque, no timer per interaction
    (a TimerHandle, its heap entry and its cancel at every command cost as much as the rest of the rule)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queue: deque[tuple[float, Callable[[], None], _Answering]] = deque()
        self.timer: asyncio.TimerHandle | None = None

    def arm(self, after: float, due: Callable[[], None], state: _Answering) -> None:
        when = self.loop.time() + after
        if self.queue and when < self.queue[-1][0]:
            # A shorter span than the ones waiting (tests): keep the queue in deadline order.
            self.queue.append((when, due, state))
            self.queue = deque(sorted(self.queue, key=lambda entry: entry[0]))
            self._wake_at(self.queue[0][0], reschedule=True)
            return
        self.queue.append((when, due, state))
        self._wake_at(self.queue[0][0])

    def _wake_at(self, when: float, *, reschedule: bool = False) -> None:
        if self.timer is not None:
            if not reschedule:
                return
            self.timer.cancel()
        self.timer = self.loop.call_at(when, self._fire)

    def _fire(self) -> None:
        self.timer = None
        now = self.loop.time()
        while self.queue and (self.queue[0][2].finished or self.queue[0][0] <= now):
            _, due, state = self.queue.popleft()
            if not state.finished:
                due()
        if self.queue:
            self._wake_at(self.queue[0][0])


_due_deferrals: dict[asyncio.AbstractEventLoop, _DueDeferrals] = {}


def _deferrals_of(loop: asyncio.AbstractEventLoop) -> _DueDeferrals:
    queue = _due_deferrals.get(loop)
    if queue is None:
        for old in [other for other in _due_deferrals if other.is_closed()]:
            del _due_deferrals[old]  # a closed loop's (tests start one per test)
        queue = _due_deferrals[loop] = _DueDeferrals(loop)
    return queue


def answer_in_time(interaction: discord.Interaction, *, after: float = DEFER_AFTER_SECONDS) -> Callable[[], None]:
    """Defer `interaction` for its handler if nothing has answered it `after` seconds from now. Returns the function
    to call when the handler is done (the rule then no longer applies). Autocomplete cannot be deferred: untouched."""
    state = _answering(interaction)
    if interaction.type is discord.InteractionType.autocomplete:
        return _nothing
    loop = asyncio.get_running_loop()
    foreground = _foreground_of(interaction)
    if foreground is not None:
        state.answered = foreground.arrived()

    def due() -> None:
        if state.finished or interaction.response.is_done():
            return
        task = loop.create_task(_defer_for_handler(interaction, state, after), name=f"defer-{interaction.id}")
        _deferrals.add(task)
        task.add_done_callback(_deferrals.discard)

    _deferrals_of(loop).arm(after, due, state)
    return state.finish


def _nothing() -> None:
    return None


def _foreground_of(interaction: discord.Interaction) -> Foreground | None:
    """The bot's count of interactions waiting for a first answer (bot/core/foreground.py); None for a client
    without one."""
    foreground = getattr(interaction.client, "foreground", None)
    return foreground if isinstance(foreground, Foreground) else None


async def _defer_for_handler(interaction: discord.Interaction, state: _Answering, after: float) -> None:
    async with state.lock:
        if state.finished or interaction.response.is_done():
            return
        kind: DeferredKind = "update" if interaction.type is discord.InteractionType.component else "thinking"
        try:
            if kind == "update":
                await interaction.response.defer()
            else:
                await interaction.response.defer(ephemeral=True, thinking=True)
        except discord.HTTPException:
            log.warning("could not defer %s", _describe(interaction), exc_info=True)
            return
        state.deferred = kind
        state.answered()
    log.info("%s had not answered within %.1f s: deferred (%s)", _describe(interaction), after, kind)


async def defer(interaction: discord.Interaction, *, ephemeral: bool = False, thinking: bool = False) -> None:
    """Acknowledge now, answer later (discord.py's `response.defer`); nothing more when the framework already
    deferred this interaction."""
    state = _answering(interaction)
    async with state.lock:
        if not interaction.response.is_done():
            await interaction.response.defer(ephemeral=ephemeral, thinking=thinking)
            state.answered()
            return
        if thinking and state.deferred == "update" and state.own_message_ephemeral is None:
            state.own_message_ephemeral = ephemeral


async def send_modal(interaction: discord.Interaction, modal: discord.ui.Modal) -> None:
    """Open a form. A form must be the first answer: when the framework had to defer first (the handler was slow),
    the person is told to try again."""
    state = _answering(interaction)
    async with state.lock:
        if not interaction.response.is_done():
            await interaction.response.send_modal(modal)
            state.answered()
            return
    raise UserFacingError.said("The form took too long to open. Try again.")


class ShuttingDown(Protocol):
    @property
    def shutting_down(self) -> bool: ...


def refused_while_shutting_down(interaction: discord.Interaction) -> bool:
    """Whether the bot is shutting down (then no new work starts: the person is told to retry)."""
    client: ShuttingDown | object = interaction.client
    return bool(getattr(client, "shutting_down", False))


async def answer_restarting(interaction: discord.Interaction) -> None:
    log.info("refused %s during shutdown", _describe(interaction))
    if interaction.type is discord.InteractionType.autocomplete:
        return
    try:
        await answer(interaction, RESTARTING, ephemeral=True)
    except discord.HTTPException:
        log.debug("could not answer %s during shutdown", _describe(interaction))


# --- sending: every text to Discord goes through these, fitted to Discord's limits -------


def _fitted(content: Any, embed: Any, view: Any, *, sending: bool) -> dict[str, Any]:
    """Keyword arguments for discord.py, each text fitted. For a new message, None means
    "not given"; for an edit it means "remove"."""
    kwargs: dict[str, Any] = {}
    if content is not MISSING and (content is not None or not sending):
        kwargs["content"] = fit_content(str(content)) if content is not None else None
    if embed is not MISSING and (embed is not None or not sending):
        kwargs["embed"] = fit_embed(embed) if embed is not None else None
    if view is not MISSING and (view is not None or not sending):
        kwargs["view"] = _not_kept(fit_view(view)) if view is not None else None
    return kwargs


def _not_kept(view: V) -> V:
    """A view made only of persistent buttons and selects (DynamicItems, registered with bot.add_dynamic_items and
    dispatched by their custom id) needs no copy in discord.py's view store. Sent stopped, it is not stored: an
    answer keeps no View and no 15-minute timeout task alive (one per /shift start, at any rate of starts)."""
    if view.children and all(isinstance(item, discord.ui.DynamicItem) for item in view.children):
        view.stop()
    return view


def _refused(exc: discord.HTTPException) -> bool:
    return exc.status == 400 and exc.code == INVALID_FORM_BODY


def _short(content: Any) -> str:
    """The plain message sent when Discord refuses the fitted one."""
    text = fit(str(content), 1500) if content not in (None, MISSING) else ""
    return f"{text}\n{REFUSED_NOTE}" if text else REFUSED_NOTE


def _short_body(content: Any, view: Any, *, editing: bool) -> dict[str, Any]:
    """What goes instead when Discord refuses the fitted message. A layout (Components V2) carries no content, and a
    message sent as one stays one: its short form is a layout of one text display."""
    if isinstance(view, discord.ui.LayoutView):
        short = discord.ui.LayoutView()
        short.add_item(discord.ui.TextDisplay(_short(content)))
        return {"view": short, "content": None, "embed": None} if editing else {"view": short}
    return {"content": _short(content), "embed": None} if editing else {"content": _short(content)}


async def _sent_or_short(
    send: Callable[[dict[str, Any]], Awaitable[T]],
    full: dict[str, Any],
    short: Callable[[], dict[str, Any]],
    what: Callable[[], str],
) -> T:
    """`send(full)`; if Discord refuses it as an invalid form, `send(short())` instead."""
    try:
        return await send(full)
    except discord.HTTPException as exc:
        if not _refused(exc):
            raise
        log.warning("Discord refused %s (%s); sending a short one instead", what(), exc.text)
    return await send(short())


async def _sent_in_turn(
    interaction: discord.Interaction,
    send: Callable[[dict[str, Any]], Awaitable[None]],
    full: dict[str, Any],
    given: tuple[Any, Any],
    *,
    editing: bool,
) -> None:
    """`_sent_or_short` under the interaction's lock (one answer or edit at a time), the short body made of the
    `given` content and view; once the interaction has its first answer, the bot's Foreground counts it answered."""
    content, view = given
    state = _answering(interaction)
    async with state.lock:
        try:
            await _sent_or_short(
                send,
                full,
                lambda: _short_body(content, view, editing=editing),
                lambda: f"the {'edit of' if editing else 'answer to'} {_describe(interaction)}",
            )
        finally:
            state.answered_if_done(interaction)


async def answer(
    interaction: discord.Interaction,
    content: str | None = None,
    *,
    embed: discord.Embed | None = None,
    view: discord.ui.View | discord.ui.LayoutView | None = None,
    ephemeral: bool = True,
    allowed_mentions: discord.AllowedMentions = MISSING,
    file: discord.File | None = None,
) -> None:
    """The first answer if there was none yet, else a followup (private unless told), with `file`
    attached when given. If Discord refuses it, a short plain message goes instead: never left unanswered."""

    state = _answering(interaction)

    async def send(kwargs: dict[str, Any]) -> None:
        if not interaction.response.is_done():
            await first_answer(interaction, ephemeral=ephemeral, allowed_mentions=allowed_mentions, **kwargs)
            return
        if state.deferred == "thinking" and not state.answered_after_defer and not ephemeral:
            # The framework's placeholder is private and a followup would replace it (keeping it private): it says
            # where the answer is, and the answer goes out for everyone as a message of its own.
            await interaction.edit_original_response(content=POSTED_PUBLICLY)
            state.answered_after_defer = True
            # The public message is the answer: later edits (edit_answer) go to it, not to the placeholder.
            state.message = await interaction.followup.send(
                ephemeral=False, allowed_mentions=allowed_mentions, wait=True, **kwargs
            )
            return
        if state.own_message_ephemeral is not None and state.message is None:
            state.message = await interaction.followup.send(
                ephemeral=state.own_message_ephemeral, allowed_mentions=allowed_mentions, wait=True, **kwargs
            )
        else:
            await interaction.followup.send(ephemeral=ephemeral, allowed_mentions=allowed_mentions, **kwargs)
        state.answered_after_defer = True

    full = _fitted(content, embed, view, sending=True)
    if file is not None:
        full["file"] = file
    await _sent_in_turn(interaction, send, full, (content, view), editing=False)


async def edit_answer(
    interaction: discord.Interaction,
    content: str | None = MISSING,
    *,
    embed: discord.Embed | None = MISSING,
    view: discord.ui.View | discord.ui.LayoutView | None = MISSING,
    allowed_mentions: discord.AllowedMentions = MISSING,
) -> None:
    """Change this interaction's answer (after an answer or defer), or, for a button not
    answered yet, the message it is on. A refused edit becomes a short plain one."""

    state = _answering(interaction)

    async def edit(kwargs: dict[str, Any]) -> None:
        if state.message is not None:
            await state.message.edit(allowed_mentions=allowed_mentions, **kwargs)
        elif state.own_message_ephemeral is not None:
            # The handler's own answer message does not exist yet (the framework acknowledged the click): create it.
            given = {k: v for k, v in kwargs.items() if v is not None}
            state.message = await interaction.followup.send(
                ephemeral=state.own_message_ephemeral, allowed_mentions=allowed_mentions, wait=True, **given
            )
        elif interaction.response.is_done():
            await edit_first_answer(interaction, allowed_mentions=allowed_mentions, **kwargs)
        else:
            await interaction.response.edit_message(allowed_mentions=allowed_mentions, **kwargs)

    full = _fitted(content, embed, view, sending=False)
    foreground = _foreground_of(interaction)
    if foreground is not None and interaction.response.is_done():
        # The person has an answer already (counted as such, whichever way it went): this change of it lets those
        # still waiting for their first go first.
        state.answered()
        await foreground.quiet()
    await _sent_in_turn(interaction, edit, full, (content, view), editing=True)


def stable_nonce(kind: str, *parts: int | None) -> int:
    """A nonce the same for every posting of one thing (a report's page, a member's reminder): with `post`, Discord
    returns the message already created with it in the last few minutes instead of a second one. The guard for two
    processes posting it at once (one stalled past its claim's lease), on top of looking at the channel first."""
    digest = hashlib.blake2b(":".join([kind, *map(str, parts)]).encode(), digest_size=8)
    return int.from_bytes(digest.digest()) >> 1  # a positive 63-bit integer


async def post(
    channel: discord.abc.Messageable,
    content: str | None = None,
    *,
    embed: discord.Embed | None = None,
    view: discord.ui.View | discord.ui.LayoutView | None = None,
    allowed_mentions: discord.AllowedMentions = MISSING,
    nonce: int | None = None,
) -> discord.Message:
    """A new message in a channel (the shift log, a status panel); a refused one is sent short. A `nonce`
    (default: a random one) is enforced by Discord: a second message with it within minutes is not created."""

    given: dict[str, Any] = {} if nonce is None else {"nonce": nonce}

    async def send(kwargs: dict[str, Any]) -> discord.Message:
        return await channel.send(allowed_mentions=allowed_mentions, **given, **kwargs)

    full = _fitted(content, embed, view, sending=True)
    return await _sent_or_short(
        send,
        full,
        lambda: _short_body(content, view, editing=False),
        lambda: f"a message for channel {_where(channel)}",
    )


async def edit_message(
    message: discord.PartialMessage | discord.Message,
    content: str | None = MISSING,
    *,
    embed: discord.Embed | None = MISSING,
    view: discord.ui.View | discord.ui.LayoutView | None = MISSING,
    allowed_mentions: discord.AllowedMentions = MISSING,
) -> discord.Message:
    """Edit a message the bot posted (a status panel); a refused edit becomes a short one."""

    async def edit(kwargs: dict[str, Any]) -> discord.Message:
        return await message.edit(allowed_mentions=allowed_mentions, **kwargs)

    full = _fitted(content, embed, view, sending=False)
    return await _sent_or_short(
        edit, full, lambda: _short_body(content, view, editing=True), lambda: f"the edit of message {message.id}"
    )


def _where(channel: discord.abc.Messageable) -> str:
    return str(getattr(channel, "id", "?"))


def _describe(interaction: discord.Interaction) -> str:
    data: Mapping[str, object] = interaction.data or {}
    what = interaction.command.qualified_name if interaction.command else data.get("custom_id", "?")
    return f"interaction {interaction.id} ({what}) by {interaction.user.id} in guild {interaction.guild_id}"


GUARDED = "__northca_guarded__"


def guarded(callback: F) -> F:
    """For every button, select and form callback (what the command tree's `interaction_check` does for commands):
    while the bot shuts down the person is told to retry and nothing starts; the answer-in-time rule is armed for
    the callback's run; errors go to the same handler as app commands."""

    @functools.wraps(callback)
    async def wrapper(self: Any, interaction: discord.Interaction, *args: Any) -> Any:
        if refused_while_shutting_down(interaction):
            await answer_restarting(interaction)
            return None
        done = answer_in_time(interaction)
        try:
            return await callback(self, interaction, *args)
        except Exception as exc:
            await report_error(interaction, exc)
        finally:
            done()
        return None

    setattr(wrapper, GUARDED, True)
    # functools.wraps types the wrapper as _Wrapped; it takes and returns what `callback` does.
    return wrapper  # type: ignore[return-value]


# --- permission checks, used by commands and re-checked by every button -----


def require_guild(interaction: discord.Interaction) -> int:
    if interaction.guild_id is None:
        raise GuildOnly()
    return interaction.guild_id


def require_manage_guild(interaction: discord.Interaction, doing: str = "do this") -> None:
    require_guild(interaction)
    perms = interaction.permissions
    if not (perms.manage_guild or perms.administrator):
        raise MissingPermission.said(f"You need the Manage Server permission to {doing}.")


def has_any_role(interaction: discord.Interaction, role_ids: list[int]) -> bool:
    user = interaction.user
    return isinstance(user, discord.Member) and any(r.id in role_ids for r in user.roles)


def require_supervisor(
    interaction: discord.Interaction, supervisor_role_ids: list[int], doing: str = "do this"
) -> None:
    require_guild(interaction)
    perms = interaction.permissions
    user = interaction.user
    role_ids = [r.id for r in user.roles] if isinstance(user, discord.Member) else []
    if is_supervisor(
        manages_server=perms.manage_guild or perms.administrator,
        role_ids=role_ids,
        supervisor_role_ids=supervisor_role_ids,
    ):
        return
    raise MissingPermission.said(f"You need the Manage Server permission or a supervisor role to {doing}.")


PAGE_LABELS = ("Previous", "Next")


def page_button(
    custom_id: str,
    direction: str,
    *,
    disabled: bool,
    labels: tuple[str, str] = PAGE_LABELS,
    emojis: tuple[str, str] | None = None,
) -> discord.ui.Button[discord.ui.View]:
    """A Previous / Next button of a paginated answer (for a DynamicItem's item). `labels` and `emojis` are
    (previous, next): answers keep the look they always had."""
    back = direction == "prev"
    return discord.ui.Button(
        label=labels[0] if back else labels[1],
        emoji=None if emojis is None else emojis[0] if back else emojis[1],
        style=discord.ButtonStyle.secondary,
        custom_id=custom_id,
        disabled=disabled,
    )


def page_view(
    page: int, pages: int, button: Callable[[int, str, bool], discord.ui.Item[Any]]
) -> discord.ui.View | None:
    """Previous / Next for page `page` (0-based) of `pages`; `button(target page, direction, disabled)`.
    None for a single page."""
    if pages <= 1:
        return None
    page = max(0, min(page, pages - 1))
    view = discord.ui.View(timeout=None)
    view.add_item(button(max(0, page - 1), "prev", page == 0))
    view.add_item(button(min(pages - 1, page + 1), "next", page >= pages - 1))
    return view
