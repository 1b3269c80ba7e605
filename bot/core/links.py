"""Linking a guild to a Northca MDT: the rules behind /link, its Approve button and /unlink.

This module is the one owner of "is this guild linked, to which MDT, approved?": other code
asks `LinkService.require_linked` (may check a pending link live), `LinkService.linkage`
or `LinkService.approved_mdt` (local only), never the stored status itself.

Every change of a stored link is conditional, in SQL, on the request it belongs to (guild,
request id and MDT): an answer about one request can never land on another that replaced it.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from bot.core.errors import Conflict, ErrorKind, Fact, InvalidInput, MissingPermission, NotLinked
from bot.core.parsing import database_id
from bot.core.timefmt import from_iso, from_ms, now_ms, to_iso
from bot.northca.client import NorthcaClient
from bot.northca.errors import NorthcaConflict, NorthcaError, NorthcaForbidden, NorthcaGone, NorthcaNotFound
from bot.storage import Database
from bot.storage.grouped import GROUP_READ_KEYS, GroupReader

log = logging.getLogger(__name__)

MDT_ID_MAX = 100
_MDT_ID_OK = re.compile(r"^[^\s\x00-\x1f\x7f]+$")
# A pending link is re-checked live when a command needs it: at most one check per guild at
# a time, and none within this many seconds of the last one (so a burst cannot hammer Northca).
PENDING_RECHECK_GAP = 3.0
PENDING_RECHECK_BUDGET = 1.5  # seconds: never hold an interaction longer on this
# The statuses of the spec that are decided; any other (pending, or one Northca added later,
# such as `in_review`) is undecided: kept, shown, and treated as not approved.
APPROVED = "approved"
REFUSED = ("denied", "expired")
STATUS_MAX = 40
_STATUS_CHARS = re.compile(r"[^a-z0-9_-]+")


class Linkage(enum.Enum):
    """What the stored link says, without asking Northca."""

    NOT_LINKED = "not linked"  # no link, or denied / expired
    UNDECIDED = "undecided"  # pending (or a status Northca added): may be approved by now
    LINKED = "linked"


def stored_status_approved(status: str | None) -> bool:
    """For code that read the stored status with other data in one query (the status panel's
    fast path); anything else goes through `LinkService.require_linked`."""
    return status == APPROVED


def clean_status(raw: str | None) -> str:
    """A link request status as stored and shown: short, lower-case, no markup."""
    value = _STATUS_CHARS.sub("_", (raw or "").strip().lower()).strip("_")[:STATUS_MAX]
    return value or "unknown"


@dataclass(frozen=True)
class GuildLink:
    guild_id: int
    mdt_id: str
    request_id: str | None
    status: str
    owner_discord_id: int | None
    requested_by: int | None
    expires_at: datetime | None
    created_at: datetime
    updated_at: datetime
    checked_at: datetime | None

    @property
    def approved(self) -> bool:
        return stored_status_approved(self.status)

    @property
    def linkage(self) -> Linkage:
        if self.approved:
            return Linkage.LINKED
        if self.status in REFUSED:
            return Linkage.NOT_LINKED
        return Linkage.UNDECIDED

    @property
    def fingerprint(self) -> str:
        """Names this request of this guild (for buttons that act on "the link as shown")."""
        return hashlib.sha256(f"{self.guild_id}|{self.request_id}|{self.mdt_id}".encode()).hexdigest()[:16]


def validate_mdt_id(raw: str | None) -> str:
    value = (raw or "").strip()
    if not value:
        raise InvalidInput(ErrorKind.MDT_ID_EMPTY)
    if len(value) > MDT_ID_MAX:
        raise InvalidInput(ErrorKind.MDT_ID_TOO_LONG, length=len(value), most=MDT_ID_MAX)
    if not _MDT_ID_OK.match(value):
        raise InvalidInput(ErrorKind.MDT_ID_MALFORMED)
    return value


# The condition every change of a stored link carries: still the same request of the same MDT.
_SAME_REQUEST = "guild_id = ? AND request_id IS NOT DISTINCT FROM ? AND mdt_id = ?"


def _required_time(stored: str) -> datetime:
    """A NOT NULL time column (created_at, updated_at): a missing value is a broken row, said loudly."""
    parsed = from_iso(stored)
    if parsed is None:
        raise ValueError("guild_links row without its created_at/updated_at time")
    return parsed


def _same_request(link: GuildLink) -> tuple[int, str | None, str]:
    return (link.guild_id, link.request_id, link.mdt_id)


def _link_from_row(row: Any) -> GuildLink:
    return GuildLink(
        guild_id=row["guild_id"],
        mdt_id=row["mdt_id"],
        request_id=row["request_id"],
        status=row["status"],
        owner_discord_id=row["owner_discord_id"],
        requested_by=row["requested_by"],
        expires_at=from_iso(row["expires_at"]),
        created_at=_required_time(row["created_at"]),
        updated_at=_required_time(row["updated_at"]),
        checked_at=from_iso(row["checked_at"]),
    )


class LinkStore:
    def __init__(self, db: Database, clock: Callable[[], int] = now_ms) -> None:
        self.db = db
        self.clock = clock
        # Every command reads its server's link: the reads of one moment (a burst of /shift start) share a statement.
        self._reads: GroupReader[int, GuildLink | None] = GroupReader(
            db, self._get_group, missing=lambda: None, max_items=GROUP_READ_KEYS, name="link-group-read"
        )

    async def get(self, guild_id: int) -> GuildLink | None:
        return await self._reads.read(guild_id)

    async def _get_group(self, guild_ids: list[int]) -> dict[int, GuildLink | None]:
        rows = await self.db.execute_fetchall(
            f"SELECT * FROM guild_links WHERE guild_id IN ({', '.join('?' for _ in guild_ids)})", tuple(guild_ids)
        )
        return {int(row["guild_id"]): _link_from_row(row) for row in rows}

    async def save_request(
        self,
        guild_id: int,
        mdt_id: str,
        request_id: str,
        status: str,
        owner: int | None,
        requested_by: int,
        expires_at: datetime | None,
    ) -> None:
        """Store a link as given, whatever was there (seeding: tests, benchmarks). The service uses
        `replace_request`, which never overwrites a link it did not read."""
        now = to_iso(from_ms(self.clock()))
        await self.db.execute(
            "INSERT INTO guild_links (guild_id, mdt_id, request_id, status, owner_discord_id, requested_by, expires_at,"
            " created_at, updated_at, checked_at) VALUES (?,?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT (guild_id) DO UPDATE SET mdt_id=excluded.mdt_id, request_id=excluded.request_id,"
            " status=excluded.status, owner_discord_id=excluded.owner_discord_id, requested_by=excluded.requested_by,"
            " expires_at=excluded.expires_at, created_at=excluded.created_at, updated_at=excluded.updated_at,"
            " checked_at=excluded.checked_at",
            (
                guild_id,
                mdt_id,
                request_id,
                status,
                owner,
                requested_by,
                to_iso(expires_at) if expires_at else None,
                now,
                now,
                now,
            ),
        )

    async def replace_request(
        self,
        expected: GuildLink | None,
        guild_id: int,
        mdt_id: str,
        request_id: str,
        status: str,
        owner: int | None,
        requested_by: int,
        expires_at: datetime | None,
    ) -> bool:
        """Store a new request in place of `expected` (None: no link), only if that is still what
        is stored and it is not approved. False: something else changed it meanwhile."""
        now = to_iso(from_ms(self.clock()))
        expires = to_iso(expires_at) if expires_at else None
        if expected is None:
            return (
                await self.db.execute(
                    "INSERT INTO guild_links (guild_id, mdt_id, request_id, status, owner_discord_id, requested_by,"
                    " expires_at, created_at, updated_at, checked_at) VALUES (?,?,?,?,?,?,?,?,?,?)"
                    " ON CONFLICT (guild_id) DO NOTHING",
                    (guild_id, mdt_id, request_id, status, owner, requested_by, expires, now, now, now),
                )
                == 1
            )
        return (
            await self.db.execute(
                "UPDATE guild_links SET mdt_id = ?, request_id = ?, status = ?, owner_discord_id = ?,"
                " requested_by = ?, expires_at = ?, created_at = ?, updated_at = ?, checked_at = ?"
                f" WHERE {_SAME_REQUEST} AND status <> ?",
                (
                    mdt_id,
                    request_id,
                    status,
                    owner,
                    requested_by,
                    expires,
                    now,
                    now,
                    now,
                    *_same_request(expected),
                    APPROVED,
                ),
            )
            == 1
        )

    async def set_status(self, link: GuildLink, status: str) -> bool:
        """The status of this request, if it is still the guild's current one."""
        now = to_iso(from_ms(self.clock()))
        return (
            await self.db.execute(
                f"UPDATE guild_links SET status = ?, updated_at = ?, checked_at = ? WHERE {_SAME_REQUEST}",
                (status, now, now, *_same_request(link)),
            )
            == 1
        )

    async def touch_checked(self, link: GuildLink) -> bool:
        return (
            await self.db.execute(
                f"UPDATE guild_links SET checked_at = ? WHERE {_SAME_REQUEST}",
                (to_iso(from_ms(self.clock())), *_same_request(link)),
            )
            == 1
        )

    async def forget(self, link: GuildLink) -> bool:
        """Delete this link, if it is still the guild's current one."""
        return await self.db.execute(f"DELETE FROM guild_links WHERE {_SAME_REQUEST}", _same_request(link)) == 1

    async def delete(self, guild_id: int) -> None:
        """Delete whatever is stored (seeding and tests; the service uses `forget`)."""
        await self.db.execute("DELETE FROM guild_links WHERE guild_id = ?", (guild_id,))

    async def approved_links(self) -> list[GuildLink]:
        rows = await self.db.fetchall("SELECT guild_id FROM guild_links WHERE status = ?", (APPROVED,))
        return [link for row in rows if (link := await self.get(row["guild_id"])) is not None]


@dataclass(frozen=True)
class LiveCheck:
    link: GuildLink
    linked_on_northca: bool | None  # None: Northca could not be asked
    error: str | None = None  # Northca's own words, when it could not be asked
    changed: LinkChange | None = None  # the link changed while it was checked


# What happened to a guild's link while an action on it was under way.
Meanwhile = Literal["removed", "other_mdt", "new_request", "other_request"]


@dataclass(frozen=True)
class LinkChange:
    """A change made to a guild's link meanwhile: what happened, and the MDT asked for now (if any)."""

    meanwhile: Meanwhile
    now_mdt_id: str | None = None

    def facts(self) -> dict[str, Fact]:
        """As error data (the front door words `meanwhile` and `now_mdt_id`)."""
        return {"meanwhile": self.meanwhile, "now_mdt_id": self.now_mdt_id}


def _changed_meanwhile(was: GuildLink, now: GuildLink | None) -> LinkChange:
    if now is None:
        return LinkChange("removed")
    if now.mdt_id != was.mdt_id:
        return LinkChange("other_mdt", now.mdt_id)
    return LinkChange("new_request", now.mdt_id)


class LinkService:
    def __init__(
        self,
        store: LinkStore,
        northca: NorthcaClient,
        *,
        recheck_gap: float = PENDING_RECHECK_GAP,
        recheck_budget: float = PENDING_RECHECK_BUDGET,
    ) -> None:
        self.store = store
        self.northca = northca
        self.recheck_gap = recheck_gap
        self.recheck_budget = recheck_budget
        self._rechecks: dict[int, asyncio.Task[LiveCheck]] = {}
        self._recheck_started: dict[int, float] = {}

    # --- the one answer to "is this guild linked?" ---

    async def current(self, guild_id: int) -> GuildLink | None:
        """The stored link, as it is (for showing it)."""
        return await self.store.get(guild_id)

    async def linkage(self, guild_id: int) -> Linkage:
        """What the stored link says, without asking Northca. UNDECIDED means `require_linked`
        may ask Northca (up to `recheck_budget` seconds): acknowledge the interaction first."""
        link = await self.store.get(guild_id)
        return Linkage.NOT_LINKED if link is None else link.linkage

    async def approved_mdt(self, guild_id: int) -> str | None:
        """The approved link's MDT, or None (local only, for background work)."""
        link = await self.store.get(guild_id)
        return link.mdt_id if link is not None and link.approved else None

    async def require_linked(self, guild_id: int | None) -> GuildLink:
        """The approved link every other command needs. An undecided one is checked live now
        (Northca may have approved it), within `recheck_budget` seconds."""
        if guild_id is None:
            raise NotLinked()
        link = await self.store.get(guild_id)
        if link is None or link.linkage is Linkage.NOT_LINKED:
            raise NotLinked()
        if link.linkage is Linkage.UNDECIDED:
            checked = await self._recheck(guild_id)
            if checked is None or not checked.approved:
                raise NotLinked()
            link = checked
        return link

    async def _recheck(self, guild_id: int) -> GuildLink | None:
        """The link after a live check, or None when none was made (one is out, or was just made,
        and did not finish within the budget). One check per guild at a time; callers share it."""
        loop = asyncio.get_running_loop()
        task = self._rechecks.get(guild_id)
        if task is None:
            last = self._recheck_started.get(guild_id)
            if last is not None and loop.time() - last < self.recheck_gap:
                return None
            self._recheck_started[guild_id] = loop.time()
            task = asyncio.create_task(self.live_status(guild_id), name=f"link-recheck-{guild_id}")
            self._rechecks[guild_id] = task
            task.add_done_callback(lambda done: self._recheck_done(guild_id, done))
        try:
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation. The check
            # itself goes on (shielded): its answer is stored for the next command.
            async with asyncio.timeout(self.recheck_budget):
                return (await asyncio.shield(task)).link
        except TimeoutError:
            return None
        except NotLinked:
            return None

    def _recheck_done(self, guild_id: int, task: asyncio.Task[LiveCheck]) -> None:
        if self._rechecks.get(guild_id) is task:
            del self._rechecks[guild_id]
        if not task.cancelled() and (exc := task.exception()) is not None and not isinstance(exc, NotLinked):
            log.error("live check of guild %s's link failed", guild_id, exc_info=exc)

    async def start(self) -> None:
        """Nothing to start: live checks run on demand."""

    async def stop(self) -> None:
        """Cancel live checks still out (the bot is closing)."""
        tasks = list(self._rechecks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # --- /link, Approve, /unlink ---

    async def request_link(self, guild_id: int, raw_mdt_id: str, actor_id: int) -> GuildLink:
        mdt_id = validate_mdt_id(raw_mdt_id)
        current = await self.store.get(guild_id)
        self._refuse_over_approved(current, mdt_id)
        req = await self.northca.create_link_request(guild_id, mdt_id, actor_id)
        owner = database_id(req.owner_discord_id or "")
        status = clean_status(req.status)
        stored = await self.store.replace_request(
            current, guild_id, mdt_id, req.id, status, owner, actor_id, req.expires_at
        )
        if not stored:
            now = await self.store.get(guild_id)
            self._refuse_over_approved(now, mdt_id)
            log.info("guild %s: request %s by %s not stored: the link changed meanwhile", guild_id, req.id, actor_id)
            why = _changed_meanwhile(current, now) if current else LinkChange("other_request")
            raise Conflict(ErrorKind.LINK_CHANGED_WHILE_SENT, **why.facts())
        log.info("guild %s: %s requested link to MDT %s (request %s, %s)", guild_id, actor_id, mdt_id, req.id, status)
        return await self._get(guild_id)

    @staticmethod
    def _refuse_over_approved(current: GuildLink | None, mdt_id: str) -> None:
        if current is None or not current.approved:
            return
        if current.mdt_id == mdt_id:
            raise Conflict(ErrorKind.ALREADY_LINKED_SAME, mdt_id=mdt_id)
        raise Conflict(ErrorKind.ALREADY_LINKED_OTHER, mdt_id=current.mdt_id)

    async def require_approver(self, guild_id: int, request_id: str, presser_id: int) -> GuildLink:
        """The guild's current request, if `presser_id` may approve it (the MDT owner only).

        Cheap (local only), so a button can check it before acknowledging."""
        link = await self.store.get(guild_id)
        if link is None or link.request_id != request_id:
            raise Conflict(ErrorKind.LINK_REQUEST_NOT_CURRENT)
        if link.owner_discord_id is None:
            raise MissingPermission(ErrorKind.LINK_OWNER_UNKNOWN)
        if presser_id != link.owner_discord_id:
            raise MissingPermission(ErrorKind.LINK_OWNER_ONLY, owner_id=link.owner_discord_id)
        return link

    async def approve(self, guild_id: int, request_id: str, presser_id: int) -> tuple[GuildLink, bool]:
        """The MDT owner approves from Discord. Returns the link and whether it was approved already."""
        link = await self.require_approver(guild_id, request_id, presser_id)
        try:
            result = await self.northca.confirm_link_request(request_id, guild_id, presser_id)
        except NorthcaGone:
            await self.store.set_status(link, "expired")
            raise Conflict(ErrorKind.LINK_REQUEST_EXPIRED) from None
        except NorthcaConflict:
            await self.store.set_status(link, "denied")
            raise Conflict(ErrorKind.LINK_REQUEST_DENIED) from None
        if not await self.store.set_status(link, APPROVED):
            now = await self.store.get(guild_id)
            log.warning(
                "guild %s: %s approved request %s (MDT %s) on Northca, but the stored link changed meanwhile",
                guild_id,
                presser_id,
                request_id,
                link.mdt_id,
            )
            raise Conflict(
                ErrorKind.LINK_APPROVED_BUT_CHANGED, mdt_id=link.mdt_id, **_changed_meanwhile(link, now).facts()
            )
        log.info("guild %s: %s approved the link to MDT %s (request %s)", guild_id, presser_id, link.mdt_id, request_id)
        return await self._get(guild_id), result.already

    async def live_status(self, guild_id: int, actor_id: int | None = None) -> LiveCheck:
        """The stored link, checked against Northca now."""
        link = await self.store.get(guild_id)
        if link is None:
            raise NotLinked()
        try:
            linked = await self._linked_on_northca(link, actor_id)
        except NorthcaError as exc:
            return LiveCheck(link, None, exc.message)
        new_status = link.status
        if linked:
            new_status = APPROVED
        elif link.status == "pending" and link.expires_at and link.expires_at <= from_ms(self.store.clock()):
            new_status = "expired"
        if new_status != link.status:
            stored = await self.store.set_status(link, new_status)
            if stored:
                log.info("guild %s: link to MDT %s is now %s (checked live)", guild_id, link.mdt_id, new_status)
        else:
            stored = await self.store.touch_checked(link)
        if not stored:
            now = await self.store.get(guild_id)
            if now is None:
                raise NotLinked()
            return LiveCheck(now, None, changed=_changed_meanwhile(link, now))
        return LiveCheck(await self._get(guild_id), linked)

    async def _linked_on_northca(self, link: GuildLink, actor_id: int | None) -> bool:
        try:
            mdts = await self.northca.list_guild_mdts(link.guild_id, actor_id)
            return any(m.mdt_id == link.mdt_id for m in mdts)
        except NorthcaNotFound:
            pass
        # Fallback: any MDT call tells, 403 meaning "not (yet) linked".
        try:
            await self.northca.list_shifts(link.mdt_id, link.guild_id, actor_id, limit=1)
            return True
        except NorthcaForbidden:
            return False

    async def unlink(self, guild_id: int, presser_id: int, fingerprint: str | None) -> tuple[GuildLink, bool]:
        """Forget the link shown to the presser (`fingerprint`); ask Northca to unlink too when
        the owner is the one asking. Returns the forgotten link and whether Northca unlinked it."""
        link = await self.store.get(guild_id)
        if link is None:
            raise NotLinked()
        if fingerprint != link.fingerprint:
            raise Conflict(ErrorKind.UNLINK_CHANGED, mdt_id=link.mdt_id, status=link.status)
        unlinked_on_northca = False
        if link.owner_discord_id is not None and presser_id == link.owner_discord_id and link.approved:
            try:
                await self.northca.unlink_mdt(link.mdt_id, guild_id, presser_id)
                unlinked_on_northca = True
            except NorthcaForbidden:
                # Not linked there any more: nothing left to undo on Northca.
                unlinked_on_northca = True
        if not await self.store.forget(link):
            now = await self.store.get(guild_id)
            raise Conflict(ErrorKind.UNLINK_CHANGED_MEANWHILE, **_changed_meanwhile(link, now).facts())
        log.info(
            "guild %s: %s forgot the link to MDT %s (northca unlinked: %s)",
            guild_id,
            presser_id,
            link.mdt_id,
            unlinked_on_northca,
        )
        return link, unlinked_on_northca

    async def _get(self, guild_id: int) -> GuildLink:
        link = await self.store.get(guild_id)
        if link is None:
            raise NotLinked()
        return link
