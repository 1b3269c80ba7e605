"""The one cleaner for text sent to Northca, and the request bodies that use it."""

from __future__ import annotations

import pytest

from bot.core.sanitize import northca_text
from bot.northca.models import ActiveUnitUpsert, CreateShiftBody


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("B.\u202e Bubbleton", "B. Bubbleton"),  # right-to-left override
        ("Pa\u200btrol\u2066\u2069", "Patrol"),  # zero-width space, isolates
        ("\ufeffADAM-12\u200d", "ADAM-12"),  # byte-order mark, zero-width joiner
        ("line\nbreak\ttab\x07bell\x7f", "line break tabbell"),
        ("  many    spaces ", "many spaces"),
        ("\u202e\u200b", ""),  # nothing visible: nothing
        ("Café Ünit 東京", "Café Ünit 東京"),  # visible text of any script is kept
    ],
)
def test_invisible_and_control_characters_are_removed(raw, clean):
    assert northca_text(raw) == clean


def test_every_text_field_of_a_request_body_is_cleaned():
    unit = ActiveUnitUpsert(
        id="ADAM-12\u200b",
        officer_name="\u202eX",
        department="Pa\u2066trol",
        rank="P\x00O",
        officer_badge="5\u200c12",
        status="10-8\u200e",
    )
    assert unit.to_json() == {
        "id": "ADAM-12",
        "officer_name": "X",
        "department": "Patrol",
        "rank": "PO",
        "officer_badge": "512",
        "status": "10-8",
    }
    shift = CreateShiftBody(id="s-1", officer_name="Smi\u200bth\u202e", department="\u2067EMS", status="completed\x1b")
    assert shift.to_json() == {"id": "s-1", "officer_name": "Smith", "department": "EMS", "status": "completed"}
