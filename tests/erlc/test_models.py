"""The PRC answer models against anything: property tests (hypothesis) that a reader never fails other than
by its documented error, and round trips of the `Name:UserId` form."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from bot.erlc.models import EmergencyCall, JoinLog, Player, ServerV2, parse_bans, parse_items, split_player

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


@given(st.text(min_size=1, max_size=30).filter(lambda n: ":" not in n), st.integers(min_value=0, max_value=2**53))
def test_player_text_round_trip(name: str, user_id: int):
    assert split_player(f"{name}:{user_id}") == (name, user_id)


@given(json_values)
def test_player_reader_fails_only_with_validation_error(value: Any):
    for model in (Player, JoinLog, EmergencyCall, ServerV2):
        with contextlib.suppress(ValidationError):
            model.model_validate(value)


@given(json_values)
def test_bans_reader_fails_only_with_value_error(value: Any):
    try:
        bans = parse_bans(value)
    except ValueError:
        return
    assert all(isinstance(k, int) and isinstance(v, str) for k, v in bans.items())


@given(st.lists(json_values, max_size=6))
def test_items_parsed_one_by_one(items: list[Any]):
    parsed, dropped = parse_items(Player, items, "Players")
    assert len(parsed) + dropped == len(items)


@pytest.mark.parametrize("text", ["", "NoColon", ":12", "Name:", "Name:12a", "Name:-3"])
def test_bad_player_texts(text: str):
    with pytest.raises(ValueError):
        split_player(text)
