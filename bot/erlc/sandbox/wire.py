"""What goes on the wire: the API's JSON shapes (PascalCase, as PRC writes them) and its error bodies."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from aiohttp import web

from bot.erlc.sandbox.faults import ERROR_CODES, HTTP_STATUS_OF_CODE


class PrcError(Exception):
    """An error answer: the PRC `code` (and its HTTP status)."""

    def __init__(self, code: int, status: int | None = None, message: str | None = None) -> None:
        super().__init__(message or ERROR_CODES.get(code, "Error"))
        self.code = code
        self.status = status or HTTP_STATUS_OF_CODE.get(code, 400)
        self.message = message or ERROR_CODES.get(code, "Error")


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status, body=json.dumps(payload).encode(), content_type="application/json", headers=headers
    )


def error_response(error: PrcError, headers: dict[str, str] | None = None) -> web.Response:
    return json_response(error.status, {"code": error.code, "message": error.message}, headers)


def rate_limited_response(retry_after: float, bucket: str, headers: dict[str, str]) -> web.Response:
    body = {"code": 4001, "message": ERROR_CODES[4001], "retry_after": retry_after, "bucket": bucket}
    return json_response(429, body, headers)


def player_text(name: str, user_id: int) -> str:
    return f"{name}:{user_id}"


def server_status(server: sqlite3.Row, current_players: int) -> dict[str, Any]:
    return {
        "Name": server["name"],
        "OwnerId": server["owner_id"],
        "CoOwnerIds": json.loads(server["co_owner_ids"]),
        "CurrentPlayers": current_players,
        "MaxPlayers": server["max_players"],
        "JoinKey": server["join_key"],
        "AccVerifiedReq": server["acc_verified_req"],
        "TeamBalance": bool(server["team_balance"]),
    }


def player(row: sqlite3.Row, *, v2: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "Player": player_text(row["name"], row["user_id"]),
        "Permission": row["permission"],
        "Team": row["team"],
    }
    # "Callsign only on non-civilian teams" (null while one has none).
    if row["team"] != "Civilian":
        entry["Callsign"] = row["callsign"]
    if v2:
        location = json.loads(row["location"]) if row["location"] else {}
        entry["Location"] = {
            "LocationX": float(location.get("LocationX", 0.0)),
            "LocationZ": float(location.get("LocationZ", 0.0)),
            "PostalCode": str(location.get("PostalCode", "")),
            "StreetName": str(location.get("StreetName", "")),
            "BuildingNumber": str(location.get("BuildingNumber", "")),
        }
        entry["WantedStars"] = row["wanted_stars"]
    return entry


def join_log(row: sqlite3.Row) -> dict[str, Any]:
    return {"Join": bool(row["joined"]), "Timestamp": row["at"], "Player": player_text(row["name"], row["user_id"])}


def emergency_call(row: sqlite3.Row) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "Team": row["team"],
        "Caller": row["caller"],
        "Players": json.loads(row["players"]),
        "Position": [row["x"], row["z"]],
        "StartedAt": row["started_at"],
        "CallNumber": row["number"],
        "PositionDescriptor": row["descriptor"],
    }
    # "Description (sometimes missing)": absent when the caller gave none.
    if row["description"] is not None:
        entry["Description"] = row["description"]
    return entry


def vehicle(row: sqlite3.Row, *, v2: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {"Texture": row["texture"], "Name": row["name"], "Owner": row["owner"]}
    if v2:
        entry["Plate"] = row["plate"] or ""
        entry["ColorName"] = row["color_name"] or ""
        if row["color_hex"] is not None:  # "ColorHex sometimes missing"
            entry["ColorHex"] = row["color_hex"]
    return entry
