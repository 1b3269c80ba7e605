"""A local, spec-faithful Northca for tests, benchmarks, demos and development.

It implements the documented endpoints (those of the project's copy of the spec,
bot/northca/openapi.yaml, that the bot uses) with the documented validation and
error messages, keeps its state in SQLite (in memory, or a file given on start),
and can inject faults at run time so the bot's retry and exactly-once logic can
be proven against real HTTP.

Where the public docs are silent the sandbox makes the smallest choice and says
so in a comment marked "assumption".

Run alone: `northca-bot sandbox --port 8787` or `python -m bot.northca.sandbox`.

One responsibility a module: `config` (its settings), `faults` (fault injection), `wire` (the JSON
envelope, API errors, date-times), `schema` (tables and record fields), `state` (the SQLite state),
`links`, `shifts`, `units` (the spec's endpoints), `dispatch` (panic, calls, scene reports, tickets),
`admin` (the `/_sandbox/...` routes), `app` (the aiohttp application), `cli` (running it alone).

Sandbox-only helpers, for tests and demos (never part of the API):

- `plant_shift(mdt_id, record)` (and `POST /_sandbox/mdts/{mdt_id}/shifts` with the record
  as JSON) stores a shift record as given, unvalidated: a badly typed one (to see how
  the bot reads a malformed item) or one with old `updated_at` / `created_at` (a backlog
  with a history). Missing times default to now.
- `accept_duplicate_shift_ids()` drops the assumed refusal of a second shift with an id the
  MDT already has, so a test can prove the bot itself never writes a shift twice.
"""

from bot.northca.sandbox.app import NorthcaSandbox, RecordedRequest
from bot.northca.sandbox.cli import config_from_args, main, serve
from bot.northca.sandbox.config import DEFAULT_SANDBOX_KEY, SandboxConfig, SandboxMdt
from bot.northca.sandbox.faults import FAULT_KINDS, Fault, Faults, Hold
from bot.northca.sandbox.links import DecisionRefused
from bot.northca.sandbox.wire import ApiError

__all__ = [
    "DEFAULT_SANDBOX_KEY",
    "FAULT_KINDS",
    "ApiError",
    "DecisionRefused",
    "Fault",
    "Faults",
    "Hold",
    "NorthcaSandbox",
    "RecordedRequest",
    "SandboxConfig",
    "SandboxMdt",
    "config_from_args",
    "main",
    "serve",
]
