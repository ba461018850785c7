"""Welsh and bilingual minutes as a Welsh council's democratic services write them: items split at Welsh headings,
and Welsh markings of what is not for publication."""

from __future__ import annotations

from pathlib import Path

from assistant.ingest.readers import read_inputs
from assistant.records import MinuteItem

BILINGUAL = """Cyngor Bwrdeistref Sirol Rhondda Cynon Taf / Rhondda Cynon Taf County Borough Council
Cofnodion y cyfarfod a gynhaliwyd ar ddydd Iau, 18 Ebrill 2024

1. Ymddiheuriadau / Apologies
Derbyniwyd ymddiheuriadau gan y Cynghorydd Gareth Caple.

2. Datgan Buddiant / Declarations of Interest
Dim. None.

3. Adroddiad Lleoliadau Plant / Children's Placements Report
The Director reported that there were 612 looked after children at 31 March 2024.

4. Ôl-ofal / Leaving Care
It was noted that 89% of care leavers were in suitable accommodation.
"""


def read_items(path: Path) -> list[MinuteItem]:
    found = list(read_inputs([path], 1_000_000, cwd=path.parent))
    assert all(isinstance(item, MinuteItem) for item in found), found
    return found


def _written(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_a_welsh_heading_opening_with_an_accented_capital_is_an_item_of_its_own(tmp_path):
    items = read_items(_written(tmp_path / "rct.txt", BILINGUAL))
    [leaving_care] = [item for item in items if "89%" in item.text]
    assert leaving_care.item_title == "4. Ôl-ofal / Leaving Care"
    assert [item.meeting_date for item in items] == ["2024-04-18"] * 5
