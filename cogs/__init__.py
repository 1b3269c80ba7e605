"""Slash-command cogs: thin, each parses, checks permission, calls one service and renders."""
