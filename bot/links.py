"""Linking a guild to a Northca MDT: the rules behind /link, its Approve button and /unlink."""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.errors import Conflict, InvalidInput, MissingPermission, NotLinked
from bot.northca.client import NorthcaClient
from bot.northca.errors import NorthcaConflict, NorthcaError, NorthcaForbidden, NorthcaGone, NorthcaNotFound
from bot.storage import Database
from bot.timefmt import from_iso, to_iso, utcnow

log = logging.getLogger(__name__)

MDT_ID_MAX = 100
_MDT_ID_OK = re.compile(r"^[^\s\x00-\x1f\x7f]+$")
# A pending link is re-checked live at most this often when a command needs it.
PENDING_RECHECK = timedelta(seconds=20)
PENDING_RECHECK_BUDGET = 1.5  # seconds: never hold an interaction longer on this


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
        return self.status == "approved"


def validate_mdt_id(raw: str | None) -> str:
    value = (raw or "").strip()
    if not value:
        raise InvalidInput("Give the MDT id from your Northca MDT settings, for example `/link mdt_id:0c7f6a0c-…`.")
    if len(value) > MDT_ID_MAX:
        raise InvalidInput(f"That MDT id is too long ({len(value)} characters; at most {MDT_ID_MAX}). Copy it again from Northca.")
    if not _MDT_ID_OK.match(value):
        raise InvalidInput("An MDT id has no spaces or special characters. Copy it again from your Northca MDT settings.")
    return value


class LinkStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, guild_id: int) -> GuildLink | None:
        row = await self.db.fetchone("SELECT * FROM guild_links WHERE guild_id = ?", (guild_id,))
        if row is None:
            return None
        return GuildLink(
            guild_id=row["guild_id"], mdt_id=row["mdt_id"], request_id=row["request_id"], status=row["status"],
            owner_discord_id=row["owner_discord_id"], requested_by=row["requested_by"],
            expires_at=from_iso(row["expires_at"]), created_at=from_iso(row["created_at"]),
            updated_at=from_iso(row["updated_at"]), checked_at=from_iso(row["checked_at"]),
        )

    async def save_request(
        self, guild_id: int, mdt_id: str, request_id: str, status: str, owner: int | None, requested_by: int,
        expires_at: datetime | None,
    ) -> None:
        now = to_iso(utcnow())
        await self.db.execute(
            "INSERT INTO guild_links (guild_id, mdt_id, request_id, status, owner_discord_id, requested_by, expires_at,"
            " created_at, updated_at, checked_at) VALUES (?,?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT (guild_id) DO UPDATE SET mdt_id=excluded.mdt_id, request_id=excluded.request_id,"
            " status=excluded.status, owner_discord_id=excluded.owner_discord_id, requested_by=excluded.requested_by,"
            " expires_at=excluded.expires_at, created_at=excluded.created_at, updated_at=excluded.updated_at,"
            " checked_at=excluded.checked_at",
            (guild_id, mdt_id, request_id, status, owner, requested_by, to_iso(expires_at) if expires_at else None, now, now, now),
        )

    async def set_status(self, guild_id: int, status: str) -> None:
        now = to_iso(utcnow())
        await self.db.execute(
            "UPDATE guild_links SET status = ?, updated_at = ?, checked_at = ? WHERE guild_id = ?", (status, now, now, guild_id)
        )

    async def touch_checked(self, guild_id: int) -> None:
        await self.db.execute("UPDATE guild_links SET checked_at = ? WHERE guild_id = ?", (to_iso(utcnow()), guild_id))

    async def delete(self, guild_id: int) -> None:
        await self.db.execute("DELETE FROM guild_links WHERE guild_id = ?", (guild_id,))

    async def approved_links(self) -> list[GuildLink]:
        rows = await self.db.fetchall("SELECT guild_id FROM guild_links WHERE status = 'approved'")
        return [link for row in rows if (link := await self.get(row["guild_id"])) is not None]


@dataclass(frozen=True)
class LiveCheck:
    link: GuildLink
    linked_on_northca: bool | None  # None: Northca could not be asked
    error: str | None = None


class LinkService:
    def __init__(self, store: LinkStore, northca: NorthcaClient) -> None:
        self.store = store
        self.northca = northca

    async def request_link(self, guild_id: int, raw_mdt_id: str, actor_id: int) -> GuildLink:
        mdt_id = validate_mdt_id(raw_mdt_id)
        current = await self.store.get(guild_id)
        if current is not None and current.approved and current.mdt_id != mdt_id:
            raise Conflict(f"This server is already linked to MDT `{current.mdt_id}`. Run /unlink first to link another.")
        req = await self.northca.create_link_request(guild_id, mdt_id, actor_id)
        owner = int(req.owner_discord_id) if req.owner_discord_id and req.owner_discord_id.isdigit() else None
        await self.store.save_request(guild_id, mdt_id, req.id, req.status, owner, actor_id, req.expires_at)
        log.info("guild %s requested link to MDT %s (request %s, %s)", guild_id, mdt_id, req.id, req.status)
        return await self._get(guild_id)

    async def require_approver(self, guild_id: int, request_id: str, presser_id: int) -> GuildLink:
        """The guild's current request, if `presser_id` may approve it (the MDT owner only).

        Cheap (local only), so a button can check it before acknowledging."""
        link = await self.store.get(guild_id)
        if link is None or link.request_id != request_id:
            raise Conflict("This link request is no longer the server's current one. An admin can run /link again.")
        if link.owner_discord_id is None:
            raise MissingPermission("Northca did not say who owns this MDT, so it can only be approved on Northca.")
        if presser_id != link.owner_discord_id:
            raise MissingPermission(f"Only the MDT owner, <@{link.owner_discord_id}>, can approve this link.")
        return link

    async def approve(self, guild_id: int, request_id: str, presser_id: int) -> tuple[GuildLink, bool]:
        """The MDT owner approves from Discord. Returns the link and whether it was approved already."""
        await self.require_approver(guild_id, request_id, presser_id)
        try:
            result = await self.northca.confirm_link_request(request_id, guild_id, presser_id)
        except NorthcaGone:
            await self.store.set_status(guild_id, "expired")
            raise Conflict("This link request has expired. An admin runs /link again to make a new one.") from None
        except NorthcaConflict:
            await self.store.set_status(guild_id, "denied")
            raise Conflict("This link request was denied on Northca. An admin runs /link again if that was a mistake.") from None
        await self.store.set_status(guild_id, "approved")
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
            new_status = "approved"
        elif link.status == "pending" and link.expires_at and link.expires_at <= utcnow():
            new_status = "expired"
        if new_status != link.status:
            await self.store.set_status(guild_id, new_status)
        else:
            await self.store.touch_checked(guild_id)
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

    async def require_linked(self, guild_id: int | None) -> GuildLink:
        """The approved link every other command needs; a pending one is re-checked now and then."""
        if guild_id is None:
            raise NotLinked()
        link = await self.store.get(guild_id)
        if link is None or link.status in ("denied", "expired"):
            raise NotLinked()
        if link.status == "pending":
            due = link.checked_at is None or utcnow() - link.checked_at >= PENDING_RECHECK
            if due:
                try:
                    # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation.
                    async with asyncio.timeout(PENDING_RECHECK_BUDGET):
                        link = (await self.live_status(guild_id)).link
                except TimeoutError:
                    pass
            if link.status != "approved":
                raise NotLinked()
        return link

    async def unlink(self, guild_id: int, presser_id: int) -> tuple[GuildLink, bool]:
        """Forget the link here; ask Northca to unlink too when the owner is the one asking.

        Returns the forgotten link and whether Northca unlinked it."""
        link = await self.store.get(guild_id)
        if link is None:
            raise NotLinked()
        unlinked_on_northca = False
        if link.owner_discord_id is not None and presser_id == link.owner_discord_id and link.approved:
            try:
                await self.northca.unlink_mdt(link.mdt_id, guild_id, presser_id)
                unlinked_on_northca = True
            except NorthcaForbidden:
                # Not linked there any more: nothing left to undo on Northca.
                unlinked_on_northca = True
        await self.store.delete(guild_id)
        log.info("guild %s forgot its link to MDT %s (northca unlinked: %s)", guild_id, link.mdt_id, unlinked_on_northca)
        return link, unlinked_on_northca

    async def _get(self, guild_id: int) -> GuildLink:
        link = await self.store.get(guild_id)
        assert link is not None
        return link
