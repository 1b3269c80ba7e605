"""The rules of the ER:LC link: connecting a server (the key checked live, stored encrypted), one poll of a
server (presence, history, verification by callsign), verification codes, member links, the presence query,
webhook events, and the pruning of old history.

Nothing here knows Discord: the port's typed errors (`bot/erlc/port.py`) go up to the cog, which words them.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.core.errors import Conflict, ErrorKind, InvalidInput
from bot.core.events import EventHub
from bot.core.timefmt import now_ms
from bot.erlc.keys import KeyVault, KeyVaultError
from bot.erlc.port import GameKeyInvalid, GamePlayer, GameServerError, GameServerPort, GameTemporary
from bot.erlc.ratelimit import RateLimitState
from bot.erlc.records import (
    PRC_ACTOR_ID,
    EmergencyCallEvent,
    ErlcLink,
    ErlcServer,
    InGameSpan,
    PollOutcome,
    PresenceChange,
    PresenceEntry,
    PresenceUpdated,
    ServerConnectionChanged,
)
from bot.erlc.store import ClaimLost, ErlcStore

log = logging.getLogger(__name__)

DAY_MS = 24 * 60 * 60 * 1000
VERIFY_TTL_MS = 10 * 60 * 1000
# Codes: no 0/O, 1/I/L, so a member reads and types them without doubt.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
CODE_PATTERN = re.compile(rf"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")
MAX_KEY_LENGTH = 200
MAX_IMPORT_ROWS = 5000
# Roblox user ids are positive 64-bit integers; Discord ids are snowflakes.
_MAX_ID = 2**63 - 1


class KeysNotConfigured(InvalidInput):
    def __init__(self) -> None:
        super().__init__(ErrorKind.ERLC_KEYS_NOT_CONFIGURED)


@dataclass(frozen=True)
class Connected:
    server: ErlcServer
    players: int
    max_players: int
    online: bool = True  # False: PRC says the server is offline (nobody in game)


@dataclass(frozen=True)
class ServerStatus:
    server: ErlcServer | None
    webhook_url: str | None
    rate_limits: str | None
    players: tuple[PresenceEntry, ...] = ()


@dataclass(frozen=True)
class PlayerLine:
    """A player in game, with the linked member (if any) and whether that member is on duty."""

    entry: PresenceEntry
    discord_id: int | None
    on_duty: bool


@dataclass(frozen=True)
class BoardFacts:
    server: ErlcServer | None
    players: int
    max_players: int
    queue: int
    staff_in_game: tuple[PlayerLine, ...]
    on_duty_in_game: tuple[PlayerLine, ...]
    on_duty_not_in_game: tuple[int, ...]


def rate_limit_text(states: Sequence[RateLimitState], now_s: float | None = None) -> str | None:
    """The PRC buckets as last read from the headers, in one line each (for /erlc status); None before any."""
    if not states:
        return None
    now = time.time() if now_s is None else now_s
    lines = []
    for s in states:
        text = f"{s.bucket}: " + (f"{s.remaining} of {s.limit} left" if s.limit is not None else "limit unknown")
        if s.reset_at is not None:
            text += f", resets in {max(0.0, s.reset_at - now):.0f} s"
        if s.blocked_until is not None:
            text += f", rate limited for {max(0.0, s.blocked_until - now):.0f} s more"
        lines.append(text)
    return "\n".join(lines)


def clean_key(raw: str) -> str:
    key = (raw or "").strip()
    if not key:
        raise InvalidInput(ErrorKind.ERLC_KEY_EMPTY)
    if len(key) > MAX_KEY_LENGTH or any(c.isspace() or not c.isprintable() for c in key):
        raise InvalidInput(ErrorKind.ERLC_KEY_MALFORMED)
    return key


def parse_import(text: str) -> list[tuple[int, int]]:
    """A CSV of `discord_id,roblox_id` (a header line is allowed); InvalidInput naming the first bad line."""
    pairs: list[tuple[int, int]] = []
    seen_discord: set[int] = set()
    seen_roblox: set[int] = set()
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        if number == 1 and not cells[0].isdigit():
            continue  # a header
        if len(cells) < 2 or not cells[0].isdigit() or not cells[1].isdigit():
            raise InvalidInput(ErrorKind.ERLC_IMPORT_LINE_MALFORMED, line=number)
        discord_id, roblox_id = int(cells[0]), int(cells[1])
        if not (0 < discord_id <= _MAX_ID and 0 < roblox_id <= _MAX_ID):
            raise InvalidInput(ErrorKind.ERLC_IMPORT_ID_RANGE, line=number)
        if discord_id in seen_discord or roblox_id in seen_roblox:
            raise InvalidInput(ErrorKind.ERLC_IMPORT_DUPLICATE, line=number)
        seen_discord.add(discord_id)
        seen_roblox.add(roblox_id)
        pairs.append((discord_id, roblox_id))
        if len(pairs) > MAX_IMPORT_ROWS:
            raise InvalidInput(ErrorKind.ERLC_IMPORT_TOO_MANY, most=MAX_IMPORT_ROWS)
    if not pairs:
        raise InvalidInput(ErrorKind.ERLC_IMPORT_EMPTY)
    return pairs


def _player_id(origin: object) -> tuple[int, str] | None:
    """The Roblox user id (and name) of a webhook event's origin: "Name:Id", or the id alone."""
    text = str(origin or "").strip()
    name, _, tail = text.rpartition(":")
    candidate = tail if tail else text
    if candidate.isdigit() and 0 < int(candidate) <= _MAX_ID:
        return int(candidate), name or candidate
    return None


class ErlcService:
    def __init__(
        self,
        store: ErlcStore,
        port: GameServerPort,
        vault: KeyVault,
        events: EventHub,
        *,
        presence_days: Callable[[int], int],
        on_duty: Callable[[int], Awaitable[set[int]]],
        clock: Callable[[], int] = now_ms,
        webhook_base_url: str | None = None,
        rate_limits: Callable[[], str | None] | None = None,
        connect_timeout: float = 12.0,
        calls_wanted: Callable[[int], bool] = lambda guild_id: False,
    ) -> None:
        self.store = store
        self.port = port
        self.vault = vault
        self.events = events
        self.presence_days = presence_days
        self.on_duty = on_duty
        self.clock = clock
        self.webhook_base_url = webhook_base_url.rstrip("/") if webhook_base_url else None
        self._rate_limits = rate_limits
        self.connect_timeout = connect_timeout
        # Whether a guild relays in-game emergency calls to the CAD: only then does a poll ask PRC for them.
        self.calls_wanted = calls_wanted
        self._deliveries: set[asyncio.Task[None]] = set()

    # --- connecting -------------------------------------------------------------------------------------
    async def connect(self, guild_id: int, actor_id: int, raw_key: str) -> Connected:
        """Checks the key live with PRC, then stores it encrypted. Raises InvalidInput, or the port's error
        (GameKeyInvalid, GameRateLimited, GameTemporary, GameRefused) with nothing saved."""
        key = clean_key(raw_key)
        if not self.vault.configured:
            raise KeysNotConfigured()
        try:
            # An admin waits for this answer: never longer than `connect_timeout` (the client may be waiting for
            # room in PRC's bucket after a 429).
            async with asyncio.timeout(self.connect_timeout):
                snapshot = await self.port.snapshot(key, players=False, queue=False)
        except TimeoutError:
            raise GameTemporary("PRC did not answer in time") from None
        cipher = self.vault.encrypt(key)
        server = await self.store.connect(
            guild_id,
            key_cipher=cipher,
            server_name=snapshot.server_name,
            owner_id=snapshot.owner_id,
            players=snapshot.current_players,
            max_players=snapshot.max_players,
            actor_id=actor_id,
            at_ms=self.clock(),
            webhook_token=secrets.token_urlsafe(32),
        )
        log.info("guild %s: ER:LC server connected by %s", guild_id, actor_id)
        await self._publish(ServerConnectionChanged(guild_id, True, server.server_name, actor_id))
        return Connected(server, snapshot.current_players, snapshot.max_players, snapshot.online)

    async def disconnect(self, guild_id: int, actor_id: int) -> ErlcServer:
        server = await self.store.disconnect(guild_id, reason="admin", actor_id=actor_id, at_ms=self.clock())
        if server is None:
            raise Conflict(ErrorKind.ERLC_NOT_CONNECTED)
        log.info("guild %s: ER:LC server disconnected by %s", guild_id, actor_id)
        await self._publish(ServerConnectionChanged(guild_id, False, server.server_name, actor_id, "admin"))
        return server

    async def rotate_webhook(self, guild_id: int, actor_id: int) -> str:
        if not await self.store.rotate_webhook(guild_id, secrets.token_urlsafe(32), actor_id, self.clock()):
            raise Conflict(ErrorKind.ERLC_NOT_CONNECTED)
        url = self.webhook_url(await self.store.server(guild_id))
        if url is None:
            raise Conflict(ErrorKind.ERLC_NO_PUBLIC_ADDRESS)
        return url

    def webhook_url(self, server: ErlcServer | None) -> str | None:
        if server is None or not server.connected or self.webhook_base_url is None:
            return None
        return f"{self.webhook_base_url}/erlc/events/{server.webhook_token}"

    async def status(self, guild_id: int) -> ServerStatus:
        server = await self.store.server(guild_id)
        return ServerStatus(
            server, self.webhook_url(server), self._rate_limits() if self._rate_limits else None,
            tuple(await self.store.presence(guild_id)),
        )  # fmt: skip

    async def connected_guilds(self, shards: Any = None) -> list[int]:
        return await self.store.connected_guilds(shards)

    # --- polling ----------------------------------------------------------------------------------------
    async def poll(self, guild_id: int) -> PollOutcome:
        """One poll of the guild's server: claims it, reads it, stores who is in game and what changed, links
        members whose verification code is a player's callsign. A 2002 disconnects the server (once)."""
        claimed = await self.store.claim_poll(guild_id, self.clock())
        if claimed is None:
            return PollOutcome(guild_id, False, error="not_connected", disconnected=True)
        claim, cipher = claimed
        try:
            key = self.vault.decrypt(cipher)
        except KeyVaultError as exc:
            await self.store.poll_failed(guild_id, claim, "key-encryption key missing")
            log.error("guild %s: %s", guild_id, exc)
            return PollOutcome(guild_id, False, error="vault")
        try:
            snapshot = await self.port.snapshot(key, players=True, queue=True, calls=self.calls_wanted(guild_id))
        except GameKeyInvalid:
            return await self._key_invalid(guild_id, cipher)
        except GameServerError as exc:
            await self.store.poll_failed(guild_id, claim, exc.kind)
            return PollOutcome(guild_id, False, error=exc.kind, retry_after=getattr(exc, "retry_after", None))
        at = self.clock()
        try:
            changes = await self.store.apply_poll(
                guild_id,
                claim,
                snapshot.players,
                server_name=snapshot.server_name if snapshot.online else None,
                current_players=snapshot.current_players,
                max_players=snapshot.max_players,
                queue_count=len(snapshot.queue),
                at_ms=at,
            )
        except ClaimLost:
            return PollOutcome(guild_id, False, error="claim_lost")
        linked = await self._verify_by_callsign(guild_id, snapshot.players, at)
        if changes or linked:
            await self._publish(PresenceUpdated(guild_id, tuple(changes), tuple(linked)))
        if snapshot.calls:
            where = {p.user_id: p.location for p in snapshot.players if p.location}
            for game_call in snapshot.calls:
                await self._record_call(
                    EmergencyCallEvent(
                        guild_id, game_call.number, game_call.started_at_ms, False, game_call.team[:20],
                        game_call.caller_id,
                        game_call.description[:1000] if game_call.description else None,
                        game_call.location[:200] if game_call.location else None,
                        game_call.players[:100], game_call.position,
                        where.get(game_call.caller_id) if game_call.caller_id is not None else None,
                    ),
                    None, at,
                )  # fmt: skip
        return PollOutcome(guild_id, True, len(snapshot.players), tuple(changes), tuple(linked))

    async def _key_invalid(self, guild_id: int, cipher: str) -> PollOutcome:
        server = await self.store.disconnect(
            guild_id, reason="key_invalid", actor_id=PRC_ACTOR_ID, at_ms=self.clock(), only_cipher=cipher
        )
        if server is not None:
            log.warning("guild %s: PRC refused the stored ER:LC key: server disconnected, polling stopped", guild_id)
            await self._publish(ServerConnectionChanged(guild_id, False, server.server_name, None, "key_invalid"))
        return PollOutcome(guild_id, False, error="key_invalid", disconnected=True)

    async def _verify_by_callsign(self, guild_id: int, players: Sequence[GamePlayer], at: int) -> list[ErlcLink]:
        candidates = [(p, (p.callsign or "").strip().upper()) for p in players]
        candidates = [(p, c) for p, c in candidates if CODE_PATTERN.match(c)]
        if not candidates:
            return []
        return await self._use_codes(guild_id, candidates, "callsign", at)

    async def _use_codes(
        self, guild_id: int, candidates: Sequence[tuple[GamePlayer, str]], how: str, at: int
    ) -> list[ErlcLink]:
        pending = await self.store.pending_codes(guild_id, at)
        linked = []
        for player, code in candidates:
            owner = pending.get(code)
            if owner is None:
                continue
            _, wanted_name = owner
            if wanted_name is not None and wanted_name != player.name.lower():
                log.info("guild %s: a verification code was shown by another player than the one named", guild_id)
                continue  # bound to the account its member named: someone else showing it links nothing
            try:
                link = await self.store.use_code(guild_id, code, player.user_id, player.name, how, at)
            except Conflict:
                log.info("guild %s: verification code shown by a Roblox account linked to another member", guild_id)
                continue
            if link is not None:
                linked.append(link)
        return linked

    # --- verification and links -------------------------------------------------------------------------
    async def new_code(self, guild_id: int, discord_id: int, roblox_name: str | None = None) -> tuple[str, int]:
        """A fresh single-use code for the member on this server, and when it expires (ms)."""
        server = await self.store.server(guild_id)
        if server is None or not server.connected:
            raise Conflict(ErrorKind.ERLC_NOT_CONNECTED_CONNECT_FIRST)
        name = (roblox_name or "").strip().lower() or None
        if name is not None and not re.fullmatch(r"[a-z0-9_]{3,20}", name):
            raise InvalidInput(ErrorKind.ERLC_ROBLOX_NAME_MALFORMED)
        at = self.clock()
        for _ in range(10):
            code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            if await self.store.new_code(guild_id, discord_id, code, name, at, at + VERIFY_TTL_MS):
                return code, at + VERIFY_TTL_MS
        raise Conflict(ErrorKind.ERLC_CODE_NOT_MADE)  # 31^6 codes: only on a broken random source

    async def link_of(self, guild_id: int, discord_id: int) -> ErlcLink | None:
        return await self.store.link_of(guild_id, discord_id)

    async def set_auto_duty_opt_out(self, guild_id: int, discord_id: int, opted_out: bool) -> bool:
        """A member's own choice about automatic shifts; False when they have no link here."""
        return await self.store.set_auto_duty_opt_out(guild_id, discord_id, opted_out)

    async def links(self, guild_id: int) -> list[ErlcLink]:
        return await self.store.links(guild_id)

    async def staff_link(self, guild_id: int, actor_id: int, discord_id: int, roblox_id: int) -> ErlcLink:
        if not 0 < roblox_id <= _MAX_ID:
            raise InvalidInput(ErrorKind.ERLC_ROBLOX_ID_MALFORMED)
        link = await self.store.link(guild_id, discord_id, roblox_id, None, "staff", actor_id, self.clock(), audit=True)
        await self._publish(PresenceUpdated(guild_id, linked=(link,)))
        return link

    async def unlink(self, guild_id: int, actor_id: int, discord_id: int) -> ErlcLink:
        """Staff unlink a member (audited), or a member removes their own link (actor == member)."""
        link = await self.store.unlink(guild_id, discord_id, actor_id, self.clock(), audit=actor_id != discord_id)
        if link is None:
            raise Conflict(ErrorKind.ERLC_NO_LINK, member_id=discord_id, own=actor_id == discord_id)
        await self._publish(PresenceUpdated(guild_id))
        return link

    async def import_links(self, guild_id: int, actor_id: int, text: str) -> tuple[int, list[tuple[int, int]]]:
        """(How many linked, the refused (discord id, Roblox id) pairs: each Roblox account another member's.)"""
        pairs = parse_import(text)
        done, refused = await self.store.import_links(guild_id, pairs, actor_id, self.clock())
        await self._publish(PresenceUpdated(guild_id))
        return done, refused

    # --- presence queries -------------------------------------------------------------------------------
    async def presence(self, guild_id: int) -> list[PresenceEntry]:
        return await self.store.presence(guild_id)

    async def history(self, guild_id: int, user_id: int | None = None, limit: int = 100) -> list[PresenceChange]:
        return await self.store.history(guild_id, user_id, limit)

    async def in_game_between(self, guild_id: int, discord_id: int, start_ms: int, end_ms: int) -> list[InGameSpan]:
        """Was this member in game between the two times, and on which team: the spans (empty: never, or not
        linked)."""
        link = await self.store.link_of(guild_id, discord_id)
        if link is None:
            return []
        return await self.store.spans(guild_id, link.roblox_id, start_ms, end_ms)

    async def players(self, guild_id: int) -> list[PlayerLine]:
        entries = await self.store.presence(guild_id)
        by_roblox = {link.roblox_id: link.discord_id for link in await self.store.links(guild_id)}
        duty = await self.on_duty(guild_id)
        lines = []
        for e in entries:
            member = by_roblox.get(e.user_id)
            lines.append(PlayerLine(e, member, member is not None and member in duty))
        return lines

    async def board(self, guild_id: int) -> BoardFacts:
        server = await self.store.server(guild_id)
        lines = await self.players(guild_id)
        duty = await self.on_duty(guild_id)
        in_game_members = {line.discord_id for line in lines if line.discord_id is not None}
        return BoardFacts(
            server=server,
            players=server.current_players if server else 0,
            max_players=server.max_players if server else 0,
            queue=server.queue_count if server else 0,
            staff_in_game=tuple(line for line in lines if line.entry.permission != "Normal"),
            on_duty_in_game=tuple(line for line in lines if line.on_duty),
            on_duty_not_in_game=tuple(sorted(duty - in_game_members)),
        )

    async def is_fast(self, guild_id: int) -> bool:
        """Whether a linked member is on duty here (the poller polls faster then)."""
        duty = await self.on_duty(guild_id)
        if not duty:
            return False
        return any(link.discord_id in duty for link in await self.store.links(guild_id))

    # --- the live boards (where they are; the Discord side renders them) ----------------------------------
    async def put_board(self, guild_id: int, channel_id: int, message_id: int) -> tuple[int, int] | None:
        """Records the guild's board message; the one it replaces (channel, message), if any."""
        old = await self.store.board(guild_id)
        await self.store.set_board(guild_id, channel_id, message_id)
        return old if old is not None and old[1] != message_id else None

    async def board_location(self, guild_id: int) -> tuple[int, int] | None:
        return await self.store.board(guild_id)

    async def board_guilds(self, shards: Any = None) -> list[int]:
        return [guild_id for guild_id, _, _ in await self.store.boards(shards)]

    async def forget_board(self, guild_id: int, message_id: int) -> None:
        """The board's message is gone (deleted, or its channel): no more edits."""
        await self.store.drop_board(guild_id, message_id)

    # --- webhook events ---------------------------------------------------------------------------------
    async def server_for_webhook(self, token: str) -> ErlcServer | None:
        if not token or len(token) > 100:
            return None
        server = await self.store.server_by_webhook(token)
        return server if server is not None and server.connected else None

    async def handle_events(self, guild_id: int, events: Sequence[Mapping[str, Any]]) -> int:
        """Signed events of one delivery (already verified): each handled once; how many were new."""
        at = self.clock()
        new = 0
        for event in events:
            if not isinstance(event, Mapping):
                continue
            key = hashlib.sha256(json.dumps(event, sort_keys=True, default=str).encode()).hexdigest()
            if not await self.store.first_time(guild_id, key, at):
                continue
            new += 1
            name = str(event.get("event") or "")
            data = event.get("data") if isinstance(event.get("data"), Mapping) else {}
            assert isinstance(data, Mapping)
            if name == "CustomCommand":
                await self._custom_command(guild_id, event.get("origin"), data, at)
            elif name in ("EmergencyCallStarted", "EmergencyCallEnded", "EmergencyCall", "EmergencyCallStart",
                          "EmergencyCallEnd"):  # fmt: skip
                await self._emergency_call(guild_id, name.endswith(("Ended", "End")), data, event, at)
        return new

    async def _custom_command(self, guild_id: int, origin: object, data: Mapping[str, Any], at: int) -> None:
        command = str(data.get("command") or "").strip().lstrip(";").lower()
        if command != "verify":
            return
        player = _player_id(origin)
        code = str(data.get("argument") or "").strip().upper()
        if player is None or not CODE_PATTERN.match(code):
            return
        user_id, name = player
        # The origin carries the id only: the name (for a code bound to a Roblox name) is the one in game now.
        for entry in await self.store.presence(guild_id):
            if entry.user_id == user_id:
                name = entry.name
        game_player = GamePlayer(user_id, name, "", None, "Normal")
        linked = await self._use_codes(guild_id, [(game_player, code)], "command", at)
        if linked:
            await self._publish(PresenceUpdated(guild_id, linked=tuple(linked)))

    async def _emergency_call(
        self, guild_id: int, ended: bool, data: Mapping[str, Any], event: Mapping[str, Any], at: int
    ) -> None:
        number = data.get("callNumber", data.get("CallNumber"))
        started = data.get("startedAt", data.get("StartedAt", event.get("timestamp")))
        if not isinstance(number, int) or not isinstance(started, (int, float)):
            return
        started_ms = int(started * 1000) if started < 10**11 else int(started)
        caller = data.get("caller", data.get("Caller"))
        players = [p for p in data.get("players", data.get("Players")) or [] if isinstance(p, int)]
        description = data.get("description", data.get("Description"))
        location = data.get("positionDescriptor", data.get("PositionDescriptor"))
        team = str(data.get("team", data.get("Team")) or "ALL")[:20]
        raw_position = data.get("position", data.get("Position"))
        position = None
        if isinstance(raw_position, list) and len(raw_position) >= 2:
            x, z = raw_position[0], raw_position[1]
            if isinstance(x, (int, float)) and isinstance(z, (int, float)) and not isinstance(x, bool):
                position = (float(x), float(z))
        call = EmergencyCallEvent(
            guild_id, number, started_ms, ended, team, caller if isinstance(caller, int) else None,
            str(description)[:1000] if description else None, str(location)[:200] if location else None,
            tuple(players[:100]), position,
        )  # fmt: skip
        await self._record_call(call, at if ended else None, at)

    async def _record_call(self, call: EmergencyCallEvent, ended_ms: int | None, at: int) -> None:
        """Stores a call (webhook or poll; the same call again only fills what was missing) and publishes it."""
        await self.store.save_call(
            call.guild_id, call.number, call.started_at_ms, ended_ms=ended_ms, team=call.team,
            caller_id=call.caller_id, description=call.description, location=call.location, players=call.players,
            at_ms=at,
        )  # fmt: skip
        self.events.erlc_calls.publish_now(call)
        if self.events.erlc_calls.has_subscribers:
            task = asyncio.get_running_loop().create_task(self.events.erlc_calls.deliver(call), name="erlc-call")
            self._deliveries.add(task)
            task.add_done_callback(self._deliveries.discard)

    # --- retention --------------------------------------------------------------------------------------
    async def prune(self, shards: Any = None) -> int:
        """Deletes presence history older than each guild's `erlc.presence_days`, and old webhook event keys."""
        now = self.clock()
        pruned = 0
        for guild_id in await self.store.history_guilds(shards):
            pruned += await self.store.prune_history(guild_id, now - self.presence_days(guild_id) * DAY_MS)
        await self.store.prune_webhook_events(now - 2 * DAY_MS)
        return pruned

    async def _publish(self, event: ServerConnectionChanged | PresenceUpdated) -> None:
        """Immediate subscribers at once; the awaited ones (Discord posts, board renders) in the background, so
        a poll or an admin's answer never waits on another channel."""
        self.events.erlc.publish_now(event)
        if self.events.erlc.has_subscribers:
            task = asyncio.get_running_loop().create_task(self.events.erlc.deliver(event), name="erlc-event")
            self._deliveries.add(task)
            task.add_done_callback(self._deliveries.discard)

    async def drain(self) -> None:
        """Waits for the deliveries already started (tests, shutdown)."""
        while self._deliveries:
            await asyncio.gather(*list(self._deliveries), return_exceptions=True)
