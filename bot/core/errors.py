"""Errors a user should read. The one app-command error handler turns each into
a short ephemeral message that says what to do."""

from __future__ import annotations


class UserFacingError(Exception):
    """Its message is shown to the person who acted, as it is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotLinked(UserFacingError):
    def __init__(self) -> None:
        super().__init__("This server is not linked to a Northca MDT yet: an admin runs /link")


class MissingPermission(UserFacingError):
    """The person may not do this (checked again on every button press)."""


class InvalidInput(UserFacingError):
    """Bad input, caught before any call was made; nothing was changed."""


class Conflict(UserFacingError):
    """The action does not fit the current state (already on duty, no open shift, …)."""


class GuildOnly(UserFacingError):
    def __init__(self) -> None:
        super().__init__("This works in a server only, not in direct messages.")
