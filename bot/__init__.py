"""Northca Duty Bot: the core (bot class, config, Northca client, storage, services)."""
