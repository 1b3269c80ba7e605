"""A local PRC (ER:LC private server API) for tests, benchmarks, demos and development.

Faithful to the project's notes on the API (bot/erlc/prc-api.md) and to nothing more: the v1 endpoints
(server, players, joinlogs, queue, killlogs, commandlogs, modcalls, bans, staff, vehicles, command) and v2
(`GET /v2/server` with its section flags, `POST /v2/server/command`), the error codes in `{code, message}`
bodies, rate-limit headers on every answer with buckets that really limit (per IP, or per global key when one
is sent; commands per server key), 429 with `{message, retry_after, bucket}`, and Ed25519-signed event webhooks
with its own key pair. State in SQLite (memory or a file). Where the notes are silent the sandbox makes the
smallest choice and says so in a comment marked "assumption".

Run alone: `northca-bot erlc-sandbox --port 8789` or `python -m bot.erlc.sandbox`.

Modules: `config`, `state` (servers, players, queue, join logs, calls, bans, staff: the Python admin methods),
`limits` (the fixed-window buckets and their headers), `faults` (error codes and faults on demand), `wire`
(the JSON shapes), `webhooks` (signing, forged and stale requests), `script` (timed events to replay), `admin`
(`/_sandbox/...`), `app` (`PrcSandbox`), `cli`, `demo` (the bot's demo mode: `start_demo_sandbox`).
"""

from bot.erlc.sandbox.app import PrcSandbox, RecordedRequest
from bot.erlc.sandbox.config import DEFAULT_SERVER_KEY, PrcSandboxConfig, SandboxServer
from bot.erlc.sandbox.faults import ERROR_CODES, HTTP_STATUS_OF_CODE
from bot.erlc.sandbox.script import SCRIPT_OPS, ScriptError
from bot.erlc.sandbox.state import CALL_TEAMS, PERMISSIONS, TEAMS, UnknownServer
from bot.erlc.sandbox.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, SignedRequest, WebhookSigner

__all__ = [
    "CALL_TEAMS",
    "DEFAULT_SERVER_KEY",
    "ERROR_CODES",
    "HTTP_STATUS_OF_CODE",
    "PERMISSIONS",
    "SCRIPT_OPS",
    "SIGNATURE_HEADER",
    "TEAMS",
    "TIMESTAMP_HEADER",
    "PrcSandbox",
    "PrcSandboxConfig",
    "RecordedRequest",
    "SandboxServer",
    "ScriptError",
    "SignedRequest",
    "UnknownServer",
    "WebhookSigner",
]
