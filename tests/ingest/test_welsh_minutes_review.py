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


WELSH_ONLY = """CYNGOR GWYNEDD
PWYLLGOR CRAFFU GOFAL CYMDEITHASOL
Dyddiad: dydd Mawrth, 13 Chwefror 2024

1. YMDDIHEURIADAU
Derbyniwyd ymddiheuriadau gan y Cynghorydd Elin Hywel.

2. DATGAN BUDDIANT PERSONOL
Ni dderbyniwyd unrhyw ddatganiad o fuddiant personol.

3. ADRODDIAD BLYNYDDOL GWASANAETH MABWYSIADU GOGLEDD CYMRU
Nodwyd bod 38 o blant wedi eu lleoli i'w mabwysiadu ar draws y rhanbarth yn ystod 2022/23.

4. GOFALWYR IFANC
Adroddodd yr Aelod Cabinet Plant fod 214 o ofalwyr ifanc wedi eu cofrestru gyda'r gwasanaeth.
"""


def test_a_whole_meetings_minutes_in_welsh_alone_are_split_into_their_items(tmp_path):
    items = read_items(_written(tmp_path / "gwynedd.txt", WELSH_ONLY))
    [carers] = [item for item in items if "214" in item.text]
    assert carers.item_title == "4. GOFALWYR IFANC" and "38 o blant" not in carers.text
    assert {item.meeting_date for item in items} == {"2024-02-13"}


def test_an_item_marked_exempt_in_welsh_is_withheld(tmp_path):
    for marking in ("(Eithriedig)", "(Eithriedig / Exempt)", "(Gwybodaeth Eithriedig)", "(Cyfrinachol)"):
        text = WELSH_ONLY + f"\n5. DYFARNU CONTRACT LLEOLIADAU PRESWYL {marking}\nSgoriodd Darparwr X uchaf ar 6,850.\n"
        items = read_items(_written(tmp_path / "gwynedd.txt", text))
        assert all("6,850" not in item.text for item in items), marking
        assert [item.restricted for item in items if item.item_title.startswith("5.")] == [True], marking


def test_an_item_whose_heading_opens_with_a_welsh_marking_is_withheld(tmp_path):
    # As "EXEMPT ITEM: Contract Award" is; the Welsh puts the kind first. Exempt information opening a heading is the
    # standing public item on excluding the press, in Welsh as in English.
    for heading in ("5. Eitem Eithriedig: Dyfarnu Contract Lleoliadau Preswyl",
                    "5. Eitem Gyfrinachol - Dyfarnu Contract Lleoliadau Preswyl"):
        text = WELSH_ONLY + f"\n{heading}\nSgoriodd Darparwr X uchaf ar 6,850.\n"
        items = read_items(_written(tmp_path / "gwynedd.txt", text))
        assert all("6,850" not in item.text for item in items), heading
        assert [item.restricted for item in items if item.item_title.startswith("5.")] == [True], heading
    standing = WELSH_ONLY + "\n5. Gwybodaeth Eithriedig - Gwahardd y Wasg a'r Cyhoedd\nNi chafwyd eitemau.\n"
    items = read_items(_written(tmp_path / "gwynedd.txt", standing))
    assert not any(item.restricted for item in items) and any("Ni chafwyd" in item.text for item in items)


def test_minutes_headed_confidential_in_welsh_are_withheld_whole(tmp_path):
    text = "CYFRINACHOL\n" + WELSH_ONLY + "Sgoriodd Darparwr X uchaf ar 6,850.\n"
    [item] = read_items(_written(tmp_path / "gwynedd.txt", text))
    assert item.restricted and "6,850" not in item.text


def test_an_item_marked_confidential_after_a_feminine_noun_is_withheld(tmp_path):
    # Welsh softens 'cyfrinachol' after 'gwybodaeth' and 'eitem' (both feminine): only the unsoftened form was known.
    for marking in ("(Gwybodaeth Gyfrinachol)", "(Eitem Gyfrinachol)"):
        text = WELSH_ONLY + f"\n5. DYFARNU CONTRACT LLEOLIADAU PRESWYL {marking}\nSgoriodd Darparwr X uchaf ar 6,850.\n"
        items = read_items(_written(tmp_path / "gwynedd.txt", text))
        assert all("6,850" not in item.text for item in items), marking
        assert [item.restricted for item in items if item.item_title.startswith("5.")] == [True], marking


def test_a_welsh_cover_saying_no_to_exempt_information_leaves_the_minutes_public(tmp_path):
    # As "Exempt information" / "No" does: 'Nac oes', 'Nac ydy' are Welsh's no to a field's question.
    for no in ("Nac oes", "Nac ydy"):
        text = f"Gwybodaeth Eithriedig\n{no}\n" + WELSH_ONLY
        items = read_items(_written(tmp_path / "gwynedd.txt", text))
        assert not any(item.restricted for item in items) and any("214" in item.text for item in items), no


def test_a_welsh_report_with_a_statement_section_stays_one_item(tmp_path):
    # 'Datganiad' (a statement) opens 'Datgan Buddiant' (declaring an interest) too: it had made a report a meeting.
    text = ("Adroddiad i'r Pwyllgor Craffu Gofal\nGwasanaethau Plant: Adroddiad Blynyddol 2023/24\n\n"
            "1. Cefndir\nMae'r adroddiad hwn yn disgrifio perfformiad y gwasanaeth.\n\n"
            "2. Datganiad Sefyllfa\nRoedd 412 o blant yn derbyn gofal ar 31 Mawrth 2024.\n\n"
            "3. Argymhellion\nGofynnir i'r pwyllgor nodi'r adroddiad.\n")
    [report] = read_items(_written(tmp_path / "adroddiad.txt", text))
    assert "412 o blant" in report.text
    minutes = WELSH_ONLY.replace("2. DATGAN BUDDIANT PERSONOL", "2. DATGANIADAU O FUDDIANT")
    assert len(read_items(_written(tmp_path / "gwynedd.txt", minutes))) == 5
