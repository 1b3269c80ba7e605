"""Server keys at rest: encrypted with Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`) under the
key-encryption key (KEK) of the configuration (`[erlc] key_encryption_key`, or `ERLC_KEK` /
`ERLC_KEK_FILE`).

Rotation (`northca-bot erlc-rotate-kek`, docs in README): put the new KEK in `key_encryption_key` and the old
one in `previous_key_encryption_keys`; the command re-encrypts every stored key under the new KEK; then the old
one can be removed. While both are configured the bot reads keys under either (MultiFernet).

A key never leaves this module except into the PRC client's request header; no exception here carries it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class KeyVaultError(Exception):
    """The vault cannot encrypt or decrypt (no KEK configured, or a stored key under an unknown KEK)."""


def new_kek() -> str:
    """A fresh key-encryption key (for the README's instructions and the tests)."""
    return Fernet.generate_key().decode("ascii")


def demo_kek(database_path: str) -> str:
    """Demo mode only: a KEK kept in a file beside the database (made once, readable by its owner only), so a
    restart reads the demo keys again. Only the local PRC sandbox's keys can be connected in demo mode."""
    if database_path == ":memory:":
        return new_kek()
    path = Path(database_path).with_name(f"{Path(database_path).stem}.demo-kek")
    if path.exists():
        value = path.read_text(encoding="ascii").strip()
        if check_kek(value) is None:
            return value
    value = new_kek()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as file:
        file.write(value)
    return value


def check_kek(value: str) -> str | None:
    """None when `value` is a usable KEK, else why not (never echoing it)."""
    try:
        Fernet(value.strip().encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        return "must be a Fernet key: 32 random bytes in URL-safe base64 (make one with `northca-bot erlc-new-kek`)"
    return None


class KeyVault:
    def __init__(self, current: str | None, previous: Sequence[str] = ()) -> None:
        self._current = Fernet(current.strip().encode("ascii")) if current else None
        others = [Fernet(k.strip().encode("ascii")) for k in previous if k.strip()]
        self._all = MultiFernet([self._current, *others]) if self._current is not None else None

    @property
    def configured(self) -> bool:
        return self._current is not None

    def encrypt(self, server_key: str) -> str:
        if self._current is None:
            raise KeyVaultError("no key-encryption key is configured ([erlc] key_encryption_key)")
        return self._current.encrypt(server_key.encode("utf-8")).decode("ascii")

    def decrypt(self, cipher: str) -> str:
        if self._all is None:
            raise KeyVaultError("no key-encryption key is configured ([erlc] key_encryption_key)")
        try:
            return self._all.decrypt(cipher.encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise KeyVaultError(
                "a stored server key was encrypted under a key-encryption key that is not configured"
            ) from None

    def rotate(self, cipher: str) -> str:
        """The same server key, encrypted under the current KEK."""
        if self._all is None:
            raise KeyVaultError("no key-encryption key is configured ([erlc] key_encryption_key)")
        try:
            return self._all.rotate(cipher.encode("ascii")).decode("ascii")
        except InvalidToken:
            raise KeyVaultError(
                "a stored server key was encrypted under a key-encryption key that is not configured:"
                " add the old one to [erlc] previous_key_encryption_keys"
            ) from None


async def rotate_stored_keys(store: KeyStore, vault: KeyVault) -> tuple[int, int]:
    """Re-encrypts every stored server key under the vault's current KEK: (re-encrypted, total). Raises
    KeyVaultError (nothing written) when a key was encrypted under a KEK the vault does not have."""
    stored = await store.all_ciphers()
    replaced = [(guild_id, cipher, vault.rotate(cipher)) for guild_id, cipher in stored]
    done = await store.replace_ciphers(replaced)
    return done, len(stored)


class KeyStore(Protocol):
    async def all_ciphers(self) -> list[tuple[int, str]]: ...
    async def replace_ciphers(self, pairs: Sequence[tuple[int, str, str]]) -> int: ...
