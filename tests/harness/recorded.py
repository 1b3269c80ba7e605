"""What a test reads back from the offline Discord: the requests the fake received
(``Recorded``), what it knows of an interaction (``InteractionContext``), and the bot's answer
to one interaction with its followups and edits (``Reply``)."""

from __future__ import annotations

import asyncio
import copy
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote

if TYPE_CHECKING:
    from .harness import Harness

__all__ = ["FakeTimeout", "InteractionContext", "NoResponse", "Recorded", "Reply", "custom_ids", "walk_components"]

MESSAGE_FLAG_EPHEMERAL = 1 << 6
MESSAGE_FLAG_LOADING = 1 << 7


class FakeTimeout(TimeoutError):
    """``FakeDiscord.wait_for`` saw no matching request in time."""


class NoResponse(AssertionError):
    """The bot did not answer an injected interaction (or send the awaited followup) in time."""


@dataclass(eq=False)
class Recorded:
    """One request received by the fake. ``path`` is relative to ``/api/v10``."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    time: float  # time.monotonic() at arrival
    seq: int = -1  # index in FakeDiscord.requests
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    files: list[dict[str, Any]] = field(default_factory=list, repr=False)  # multipart uploads
    status: int = 0  # what the fake answered
    response: Any = field(default=None, repr=False)
    # The message the request created (an interaction callback's), as Discord keeps it: a callback sent without
    # `with_response` is answered 204 with no body, and the message exists all the same.
    created: dict[str, Any] | None = field(default=None, repr=False)
    answered: asyncio.Event = field(default_factory=asyncio.Event, repr=False)  # set once the answer is sent

    def match(self, method: str | None, pattern: str) -> re.Match[str] | None:
        if method is not None and self.method != method.upper():
            return None
        return re.search(pattern, self.path)

    @property
    def reason(self) -> str | None:
        """The audit log reason (``X-Audit-Log-Reason``), decoded."""
        raw = self.headers.get("X-Audit-Log-Reason")
        return unquote(raw) if raw is not None else None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class InteractionContext:
    """What the fake knows about an interaction, keyed by its token."""

    id: int
    token: str
    type: int
    application_id: int
    channel_id: int | None
    guild_id: int | None
    user: dict[str, Any]
    message: dict[str, Any] | None = None  # the clicked message for components
    responded: int | None = None  # callback type once acknowledged
    original_message_id: int | None = None
    loading: bool = False  # deferred (type 5) and not yet edited/followed up

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> InteractionContext:
        who = payload.get("member", {}).get("user") or payload.get("user") or {}
        ch = payload.get("channel") or {}
        channel_id = ch.get("id") or payload.get("channel_id")
        message = payload.get("message")
        return cls(
            id=int(payload["id"]),
            token=str(payload["token"]),
            type=int(payload["type"]),
            application_id=int(payload["application_id"]),
            channel_id=int(channel_id) if channel_id is not None else None,
            guild_id=int(payload["guild_id"]) if payload.get("guild_id") else None,
            user=copy.deepcopy(dict(who)),
            message=copy.deepcopy(dict(message)) if message is not None else None,
        )


def walk_components(components: Sequence[Mapping[str, Any]] | None) -> Iterator[Mapping[str, Any]]:
    """Every component in a (V1 action-row or V2 layout) component tree, depth first."""
    for comp in components or ():
        yield comp
        yield from walk_components(comp.get("components"))
        for key in ("component", "accessory"):
            child = comp.get(key)
            if isinstance(child, Mapping):
                yield from walk_components([child])


def custom_ids(components: Sequence[Mapping[str, Any]] | None) -> list[str]:
    return [c["custom_id"] for c in walk_components(components) if "custom_id" in c]


class Session:
    """Everything a Reply needs about one interaction, shared by its followups/edits."""

    def __init__(self, harness: Harness, ctx: InteractionContext, describe: str) -> None:
        self.harness = harness
        self.ctx = ctx
        self.describe = describe
        self.cursor = -1  # seq of the last request handed out by Reply.followup()
        self.callback_seq = -1
        self.message_ids: set[int] = set()
        if ctx.message is not None:
            self.message_ids.add(int(ctx.message["id"]))

    def kind_of(self, rec: Recorded) -> Literal["followup", "edit"] | None:
        """Whether ``rec`` is a (successful) followup or edit belonging to this interaction."""
        if not rec.ok:
            return None
        token = self.ctx.token
        if rec.method == "POST" and rec.path == f"/webhooks/{self.ctx.application_id}/{token}":
            return "followup"
        if rec.method == "PATCH":
            if rec.path.startswith(f"/webhooks/{self.ctx.application_id}/{token}/messages/"):
                return "edit"
            m = re.fullmatch(r"/channels/\d+/messages/(\d+)", rec.path)
            if m and int(m[1]) in self.message_ids:
                return "edit"
        return None

    async def next_event(self, after: int, timeout: float | None) -> Recorded:
        timeout = self.harness.timeout if timeout is None else timeout
        try:
            rec = await self.harness.fake.wait_for(
                lambda r: r.seq > after and self.kind_of(r) is not None, timeout, since=after + 1
            )
        except FakeTimeout:
            raise NoResponse(
                f"{self.describe}: no followup or edit within {timeout}s{self.harness._error_summary()}"
            ) from None
        await rec.answered.wait()
        return rec


class Reply:
    """What the bot answered to one interaction: the initial callback, or a followup/edit.

    ``callback_type``: 4 message, 5 deferred, 6 deferred update, 7 update, 8 autocomplete,
    9 modal (``None`` for followups/edits; see ``kind``).
    """

    def __init__(
        self,
        session: Session,
        request: Recorded,
        *,
        kind: Literal["callback", "followup", "edit"],
        ack_time: float | None = None,
    ) -> None:
        self._session = session
        self.request = request
        self.kind = kind
        self.ack_time = ack_time
        self.interaction_id = session.ctx.id
        body = request.json if isinstance(request.json, dict) else {}
        self.callback_type: int | None = int(body.get("type", 0)) if kind == "callback" else None
        #: what the bot sent: the callback's ``data``, or the followup/edit body
        self.data: dict[str, Any] = (body.get("data") or {}) if kind == "callback" else body
        #: the resulting message object (as Discord would return it), if any
        self.message: dict[str, Any] | None = None
        response = request.response if isinstance(request.response, dict) else {}
        if kind == "callback":
            msg = (response.get("resource") or {}).get("message") or request.created
            self.message = copy.deepcopy(msg) if msg else None
        elif "id" in response:
            self.message = copy.deepcopy(response)
        if self.message is not None:
            session.message_ids.add(int(self.message["id"]))

    def __repr__(self) -> str:
        what = f"type={self.callback_type}" if self.kind == "callback" else self.kind
        return f"<Reply {what} interaction={self.interaction_id} content={self.content!r} custom_ids={self.custom_ids}>"

    # --- content ---------------------------------------------------------------

    def _field(self, key: str, default: Any) -> Any:
        source = self.message if self.message is not None else self.data
        value = source.get(key)
        return default if value is None else value

    @property
    def content(self) -> str:
        return str(self._field("content", ""))

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return list(self._field("embeds", []))

    @property
    def components(self) -> list[dict[str, Any]]:
        return list(self._field("components", []))

    @property
    def custom_ids(self) -> list[str]:
        return custom_ids(self.components)

    @property
    def flags(self) -> int:
        return int(self._field("flags", 0))

    @property
    def status(self) -> int:
        """The HTTP status the fake answered this callback/followup/edit with."""
        return self.request.status

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & MESSAGE_FLAG_EPHEMERAL)

    @property
    def choices(self) -> list[dict[str, Any]]:
        """Autocomplete choices (callback type 8)."""
        return list(self.data.get("choices") or [])

    @property
    def modal(self) -> dict[str, Any] | None:
        """The modal (callback type 9): ``{custom_id, title, components}``."""
        return self.data if self.callback_type == 9 else None

    def component(self, custom_id: str) -> dict[str, Any]:
        """The component dict with this custom_id (buttons, selects, text inputs...)."""
        for comp in walk_components(self.components):
            if comp.get("custom_id") == custom_id:
                return dict(comp)
        raise KeyError(f"no component {custom_id!r}; have {self.custom_ids}")

    # --- what happened next --------------------------------------------------------

    def _events(self, kind: str) -> list[Reply]:
        s = self._session
        return [
            Reply(s, r, kind=k) for r in s.harness.fake.requests[s.callback_seq + 1 :] if (k := s.kind_of(r)) == kind
        ]

    @property
    def followups(self) -> list[Reply]:
        """Followup messages received so far for this interaction."""
        return self._events("followup")

    @property
    def edits(self) -> list[Reply]:
        """Edits received so far (``@original``/webhook message edits, and channel edits of
        messages of this interaction)."""
        return self._events("edit")

    async def followup(self, timeout: float | None = None) -> Reply:
        """Wait for the next followup or edit of this interaction not yet returned by
        ``followup()`` (on this reply or any reply of the same interaction)."""
        s = self._session
        rec = await s.next_event(max(s.cursor, s.callback_seq), timeout)
        s.cursor = max(s.cursor, rec.seq)
        kind = s.kind_of(rec)
        assert kind is not None
        return Reply(s, rec, kind=kind)

    async def final(self, timeout: float | None = None) -> Reply:
        """For a deferred callback (5 or 6) the first followup/edit that follows it;
        otherwise this reply."""
        if self.kind != "callback" or self.callback_type not in (5, 6):
            return self
        s = self._session
        rec = await s.next_event(s.callback_seq, timeout)
        s.cursor = max(s.cursor, rec.seq)
        kind = s.kind_of(rec)
        assert kind is not None
        return Reply(s, rec, kind=kind)
