"""Per-guild settings: `records` (GuildSettings, defaults, stored form), `store` (all settings SQL and
the deletion of a guild's data), `service` (cached reads, validated audited changes, retention)."""

from bot.settings.records import GuildSettings, SettingsChanged
from bot.settings.service import ChannelFacts, RoleFacts, SettingsService
from bot.settings.store import SettingsStore

__all__ = ["ChannelFacts", "GuildSettings", "RoleFacts", "SettingsChanged", "SettingsService", "SettingsStore"]
