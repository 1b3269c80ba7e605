"""Per-guild settings: `records` (GuildSettings, defaults, stored form), `store` (all settings SQL and
the deletion of a guild's data), `service` (cached reads, validated audited changes, retention)."""

from bot.core.settings.records import GuildSettings, SettingsChanged
from bot.core.settings.service import ChannelFacts, RoleFacts, SettingsService
from bot.core.settings.store import SettingsStore

__all__ = ["ChannelFacts", "GuildSettings", "RoleFacts", "SettingsChanged", "SettingsService", "SettingsStore"]
