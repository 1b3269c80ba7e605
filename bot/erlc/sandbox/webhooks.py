"""Signed event webhooks, as PRC sends them: POST `{server, events: [{event, timestamp, origin, data}]}` with
`X-Signature-Timestamp` and `X-Signature-Ed25519` (hex), an Ed25519 signature over timestamp + raw body.

The sandbox has its own key pair; `public_key_b64` is its public key written as PRC publishes its own (SPKI,
DER, base64), to put in the bot's configuration. The forged and stale helpers make the requests an attacker
could send, for the receiver's tests.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

SIGNATURE_HEADER = "X-Signature-Ed25519"
TIMESTAMP_HEADER = "X-Signature-Timestamp"


def public_key_spki_b64(private_key: Ed25519PrivateKey) -> str:
    der = private_key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


def private_key_raw_b64(private_key: Ed25519PrivateKey) -> str:
    raw = private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return base64.b64encode(raw).decode()


def private_key_from_raw_b64(value: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(base64.b64decode(value))


@dataclass(frozen=True)
class SignedRequest:
    body: bytes
    headers: dict[str, str]


def event(name: str, data: dict[str, Any], *, origin: str = "", timestamp: int | None = None) -> dict[str, Any]:
    """One event of a webhook payload; `timestamp` defaults to the sending time."""
    entry: dict[str, Any] = {"event": name, "origin": origin, "data": data}
    if timestamp is not None:
        entry["timestamp"] = timestamp
    return entry


def webhook_probe() -> dict[str, Any]:
    """Sent when the owner saves the webhook URL."""
    return event("WebhookProbe", {})


def custom_command(user_id: int, command: str, argument: str = "") -> dict[str, Any]:
    """A chat message starting with `;` typed in game (`;verify 4KX2` is command "verify", argument "4KX2")."""
    return event("CustomCommand", {"command": command, "argument": argument}, origin=str(user_id))


def emergency_call(
    name: str,
    *,
    call_number: int,
    team: str = "Police",
    caller: int | None = None,
    players: Sequence[int] = (),
    description: str | None = None,
    position: tuple[float, float] = (0.0, 0.0),
    position_descriptor: str | None = None,
    started_at: int = 0,
) -> dict[str, Any]:
    """`EmergencyCallStarted` or `EmergencyCallEnded`."""
    data = {
        "players": list(players),
        "caller": caller,
        "description": description,
        "callNumber": call_number,
        "team": team,
        "position": list(position),
        "positionDescriptor": position_descriptor,
        "startedAt": started_at,
    }
    return event(name, data, origin="" if caller is None else str(caller))


class WebhookSigner:
    """Signs payloads with the sandbox's key; makes forged and stale ones on demand."""

    def __init__(self, private_key: Ed25519PrivateKey, clock: Callable[[], float]) -> None:
        self._key = private_key
        self._clock = clock
        self.public_key_b64 = public_key_spki_b64(private_key)

    def payload(self, server: str, events: Sequence[dict[str, Any]]) -> bytes:
        now = int(self._clock())
        stamped = [{"timestamp": now, **e} for e in events]
        for entry in stamped:
            entry.setdefault("origin", "")
            entry.setdefault("data", {})
        return json.dumps({"server": server, "events": stamped}, separators=(",", ":")).encode()

    def sign(self, body: bytes, *, timestamp: int | None = None, key: Ed25519PrivateKey | None = None) -> SignedRequest:
        stamp = str(int(self._clock()) if timestamp is None else timestamp)
        signature = (key or self._key).sign(stamp.encode() + body)
        return SignedRequest(
            body,
            {"Content-Type": "application/json", TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: signature.hex()},
        )

    def forged(self, body: bytes) -> SignedRequest:
        """Signed by another key (an attacker's), fresh timestamp."""
        return self.sign(body, key=Ed25519PrivateKey.generate())

    def stale(self, body: bytes, age_seconds: int = 3600) -> SignedRequest:
        """Correctly signed, but `age_seconds` old (a replay)."""
        return self.sign(body, timestamp=int(self._clock()) - age_seconds)

    def tampered(self, body: bytes) -> SignedRequest:
        """Signed for `body`, sent with one byte of the body changed."""
        signed = self.sign(body)
        changed = bytearray(body)
        changed[-2] = changed[-2] ^ 0x01 if len(changed) > 1 else 0
        return SignedRequest(bytes(changed), signed.headers)

    def unsigned(self, body: bytes) -> SignedRequest:
        return SignedRequest(body, {"Content-Type": "application/json"})
