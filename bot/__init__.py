"""Northca Duty Bot: the core (bot class, config, Northca client, storage, services)."""

# The one place the version is written: pyproject.toml reads it (dynamic), `northca-bot --version` prints it,
# the Docker image's label repeats it (a test checks they agree).
__version__ = "0.3.0"
