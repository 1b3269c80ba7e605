"""A script of game events to replay: timed joins, leaves, team and callsign changes, calls, key revocations.

A script is a list of steps, each `{"after": seconds from the start, "op": ..., ...arguments}`, e.g.
`{"after": 2, "op": "join", "key": "K", "user_id": 5, "name": "Bob", "team": "Police", "callsign": "1A-12"}`.
Ops: join, leave, set_team, set_callsign, set_permission, queue (user_ids), call (-> call number), end_call
(number), revoke, ban_key, and on a running `PrcSandbox` chat (user_id, message: `;verify CODE` reaches the
event webhook) and set_webhook (url).
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from bot.erlc.sandbox.state import GameState

SCRIPT_OPS = (
    "join",
    "leave",
    "set_team",
    "set_callsign",
    "set_permission",
    "queue",
    "call",
    "end_call",
    "revoke",
    "ban_key",
    "chat",
    "set_webhook",
)


class ScriptError(ValueError):
    """A step that cannot be applied, named by its index and what is wrong."""


def validate_script(steps: Any) -> list[dict[str, Any]]:
    if not isinstance(steps, list):
        raise ScriptError("a script is a JSON list of steps")
    checked = []
    last = 0.0
    for i, step in enumerate(steps):
        if not isinstance(step, dict):
            raise ScriptError(f"step {i}: not an object")
        op = step.get("op")
        if op not in SCRIPT_OPS:
            raise ScriptError(f"step {i}: op must be one of {', '.join(SCRIPT_OPS)}")
        if not isinstance(step.get("key"), str):
            raise ScriptError(f"step {i}: key (the server key) is required")
        after = step.get("after", last)
        if isinstance(after, bool) or not isinstance(after, (int, float)) or after < last:
            raise ScriptError(f"step {i}: after must be a number of seconds, not before the step above")
        last = float(after)
        checked.append({**step, "after": last})
    return checked


def load_script(path: str | Path) -> list[dict[str, Any]]:
    return validate_script(json.loads(Path(path).read_text(encoding="utf-8")))


def apply_step(state: GameState, step: dict[str, Any]) -> Any:
    """Apply one step now; returns what the op returns (a call number for `call`)."""
    op, key = step["op"], step["key"]
    args = {k: v for k, v in step.items() if k not in ("op", "key", "after")}
    if op == "join":
        return state.join(key, **args)
    if op == "leave":
        return state.leave(key, int(args["user_id"]))
    if op == "set_team":
        return state.set_team(key, int(args["user_id"]), args["team"])
    if op == "set_callsign":
        return state.set_callsign(key, int(args["user_id"]), args.get("callsign"))
    if op == "set_permission":
        return state.set_permission(key, int(args["user_id"]), args["permission"])
    if op == "queue":
        return state.set_queue(key, [int(u) for u in args.get("user_ids", [])])
    if op == "call":
        if "position" in args:
            args["position"] = tuple(args["position"])
        return state.add_emergency_call(key, **args)
    if op == "end_call":
        return state.end_emergency_call(key, int(args["number"]))
    if op == "revoke":
        return state.revoke_key(key)
    if op == "ban_key":
        return state.ban_key(key)
    # The event webhook's ops need the running sandbox (they send HTTP): they return an awaitable.
    from bot.erlc.sandbox.app import PrcSandbox

    if not isinstance(state, PrcSandbox):
        raise ScriptError(f"{op} needs a running PrcSandbox")
    if op == "chat":
        return state.chat(key, int(args["user_id"]), str(args["message"]))
    return state.set_event_webhook(key, args.get("url"))


async def play(
    state: GameState,
    steps: Sequence[dict[str, Any]],
    *,
    speed: float = 1.0,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> list[Any]:
    """Replay the steps at their times (`speed` 2 plays twice as fast); returns each step's result."""
    results = []
    elapsed = 0.0
    for step in validate_script(list(steps)):
        wait = (step["after"] - elapsed) / speed
        if wait > 0:
            await sleep(wait)
        elapsed = step["after"]
        result = apply_step(state, step)
        if inspect.isawaitable(result):
            result = await result
        results.append(result)
    return results
