"""Dispatch from Discord: panic (10-33), calls, tickets and scene reports (see service.py)."""

from bot.core.dispatch.records import CallRecord, DispatchOutcome, OutboxEntry, PanicRecord
from bot.core.dispatch.service import DispatchService
from bot.core.dispatch.store import DispatchStore

__all__ = ["CallRecord", "DispatchOutcome", "DispatchService", "DispatchStore", "OutboxEntry", "PanicRecord"]
