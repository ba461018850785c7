"""Input readers: every format, every way a file can be wrong, and where each item's identity comes from."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from assistant.ingest.readers import SUPPORTED_SUFFIXES, read_inputs
from assistant.records import InputProblem, MinuteItem
from fixtures_make import (
    SITE,
    Row,
    issue_page,
    item_page,
    make_docx,
    make_docx_with_body,
    make_image_only_pdf,
    make_paged_pdf,
    make_pdf,
    meeting_page,
)

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
CAP = 1_000_000
NBSP = "\u00a0"


def read(paths, cap: int = CAP, cwd: Path | None = None) -> list[MinuteItem | InputProblem]:
    results = list(read_inputs([Path(p) for p in paths], cap, cwd=cwd))
    for result in results:
        if isinstance(result, InputProblem):
            assert result.reason and result.hint, f"every problem says what to do: {result}"
    return results


def items_of(results) -> list[MinuteItem]:
    return [r for r in results if isinstance(r, MinuteItem)]


def problems_of(results) -> list[InputProblem]:
    return [r for r in results if isinstance(r, InputProblem)]


def only_item(results) -> MinuteItem:
    assert len(results) == 1 and isinstance(results[0], MinuteItem), results
    return results[0]


def only_problem(results) -> InputProblem:
    assert len(results) == 1 and isinstance(results[0], InputProblem), results
    return results[0]


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def test_public_api() -> None:
    import assistant.ingest.readers as readers

    assert readers.__all__ == ["SUPPORTED_SUFFIXES", "read_inputs"]
    assert set(SUPPORTED_SUFFIXES) == {".md", ".markdown", ".txt", ".html", ".htm", ".aspx", ".pdf", ".docx", ".jsonl"}


# --- Markdown and plain text -------------------------------------------------------------

FRONT_MATTER_MD = f"""---
id: barnsley-2018-csc-performance
council: Barnsley Metropolitan Borough Council
committee: Overview and Scrutiny Committee
meeting_date: 2018
period: 2018-09
item_title: Children's Social Care Performance
source_url: https://barnsleymbc.moderngov.co.uk/mgAi.aspx?ID=23547
---

Agenda item

Children's Social Care Performance

{NBSP}

Minutes:

The Service Director gave an overview.{NBSP} Performance remains good.
    Indented line kept as it is.
"""


def test_markdown_with_front_matter(tmp_path: Path) -> None:
    item = only_item(read([write(tmp_path / "barnsley.md", FRONT_MATTER_MD)]))
    assert item.source_id == "https://barnsleymbc.moderngov.co.uk/mgAi.aspx?ID=23547"
    assert item.source_url == item.source_id
    assert (item.council, item.committee) == ("Barnsley Metropolitan Borough Council", "Overview and Scrutiny Committee")
    assert (item.meeting_date, item.period) == ("2018", "2018-09")
    assert item.item_title == "Children's Social Care Performance"
    assert not item.restricted
    body = FRONT_MATTER_MD.split("---\n", 2)[2]
    assert item.text == body.strip("\n"), "the body is kept verbatim, NBSPs and indentation included"
    assert f"{NBSP}\n\nMinutes:" in item.text


def test_front_matter_alternative_keys(tmp_path: Path) -> None:
    text = "---\ntitle: Placements\ndate: 2019-03-06\nurl: https://x.moderngov.co.uk/mgAi.aspx?ID=5\n---\nMinutes text.\n"
    item = only_item(read([write(tmp_path / "a.md", text)]))
    assert (item.item_title, item.meeting_date, item.source_id) == (
        "Placements", "2019-03-06", "https://x.moderngov.co.uk/mgAi.aspx?ID=5",
    )


def test_markdown_without_front_matter_takes_title_after_agenda_item(tmp_path: Path) -> None:
    text = "Home > Council and Democracy > Agenda item\n\n\nAgenda item\n\nCHILDREN'S SOCIAL CARE UPDATE\n\nMinutes:\n\nNoted.\n"
    write(tmp_path / "update.md", text)
    item = only_item(read([tmp_path], cwd=tmp_path))
    assert item.item_title == "CHILDREN'S SOCIAL CARE UPDATE"
    assert item.source_id == "file:update.md"
    assert item.text == text.strip("\n")
    assert (item.council, item.meeting_date, item.source_url) == ("", "", "")


def test_plain_text_and_crlf(tmp_path: Path) -> None:
    item = only_item(read([write(tmp_path / "minutes.txt", "Minutes:\r\n\r\nThe Committee noted the report.\r\n")]))
    assert item.text == "Minutes:\n\nThe Committee noted the report."
    assert item.item_title == ""


@pytest.mark.parametrize(
    ("encoding", "text"),
    [
        ("cp1252", "The Committee noted the \u2018front door\u2019 cost of \u00a31.2m \u2013 \u201cgood\u201d progress."),
        ("latin-1", "Caf\u00e9 r\u00e9sum\u00e9: the \u00a310 fee was na\u00efve, said the Committee."),
        ("utf-8-sig", "UTF-8 with a BOM: \u00a35 and \u2018quotes\u2019."),
    ],
)
def test_legacy_encodings_decode(tmp_path: Path, encoding: str, text: str) -> None:
    item = only_item(read([write(tmp_path / "legacy.txt", text, encoding)]))
    assert item.text == text


def test_bom_does_not_hide_front_matter(tmp_path: Path) -> None:
    text = "---\ncouncil: Sefton Council\n---\nMinutes.\n"
    item = only_item(read([write(tmp_path / "bom.md", text, "utf-8-sig")]))
    assert (item.council, item.text) == ("Sefton Council", "Minutes.")


@pytest.mark.parametrize("content", ["", "  \n\t\n  "])
def test_empty_file_is_skipped(tmp_path: Path, content: str) -> None:
    problem = only_problem(read([write(tmp_path / "empty.md", content)]))
    assert (problem.kind, problem.reason) == ("skipped", "empty file")


@pytest.mark.parametrize("name", ["minutes.txt", "minutes.jsonl"])
@pytest.mark.parametrize(("encoding", "named"), [("utf-16-le", "UTF-16 LE"), ("utf-16-be", "UTF-16 BE")])
def test_utf16_without_a_byte_order_mark_is_named_with_how_to_save_it(tmp_path: Path, name: str, encoding: str,
                                                                       named: str) -> None:
    text = '{"text": "Minutes: 412 children \u2018looked after\u2019 cost \u00a3120,000."}\n' * 40
    problem = only_problem(read([write(tmp_path / name, text, encoding)]))
    assert problem.kind == "failed" and problem.reason.startswith(f"{named} text without a byte order mark")
    assert "UTF-8" in problem.hint


def test_binary_file_with_text_extension_fails(tmp_path: Path) -> None:
    path = tmp_path / "photo.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    problem = only_problem(read([path]))
    assert problem.kind == "failed" and "binary" in problem.reason
    assert problem.origin == str(path)


@pytest.mark.parametrize(
    ("front_matter", "field", "expected"),
    [
        ("meeting_date: next Tuesday", "meeting_date", "ISO"),
        ("date: 2018-13", "date", "ISO"),
        ("council: [Sefton, Bradford]", "council", "a list"),
        ("restricted: maybe", "restricted", "true or false"),
        ("source_url: not a link", "source_url", "http"),
    ],
)
def test_front_matter_wrong_type_fails_naming_the_field(
    tmp_path: Path, front_matter: str, field: str, expected: str
) -> None:
    problem = only_problem(read([write(tmp_path / "bad.md", f"---\n{front_matter}\n---\nMinutes.\n")]))
    assert problem.kind == "failed"
    assert f"'{field}'" in problem.reason
    assert expected in problem.reason + problem.hint


def test_invalid_yaml_fails(tmp_path: Path) -> None:
    problem = only_problem(read([write(tmp_path / "bad.md", "---\ncouncil: [unclosed\ntitle: x: y\n---\nMinutes.\n")]))
    assert problem.kind == "failed" and "YAML" in problem.reason


def test_front_matter_restricted_yields_restricted_item_without_text(tmp_path: Path) -> None:
    text = "---\nid: secret-item\nrestricted: true\n---\nNames of children placed out of area.\n"
    item = only_item(read([write(tmp_path / "secret.md", text)]))
    assert item.restricted and item.source_id == "secret-item"
    assert item.text == ""


def test_front_matter_keys_in_another_case_are_the_known_keys(tmp_path: Path) -> None:
    text = "---\nCouncil: Sefton Council\nCommittee: Cabinet\nDate: 2021-03-03\nTitle: Fostering\n---\nNoted.\n"
    item = only_item(read([write(tmp_path / "caps.md", text)]))
    assert (item.council, item.committee, item.meeting_date, item.item_title) == (
        "Sefton Council", "Cabinet", "2021-03-03", "Fostering",
    )


@pytest.mark.parametrize(("key", "meant"), [("councl", "council"), ("meeting-date", "meeting_date"),
                                            ("comittee", "committee"), ("Meeting Date", "meeting_date")])
def test_a_misspelt_front_matter_key_fails_naming_the_key_it_probably_is(tmp_path: Path, key: str, meant: str) -> None:
    problem = only_problem(read([write(tmp_path / "typo.md", f"---\n{key}: Sefton Council\n---\nNoted.\n")]))
    assert problem.kind == "failed"
    assert f"'{key}'" in problem.reason and f"'{meant}'" in problem.reason
    assert f"Rename '{key}' to '{meant}'" in problem.hint


def test_a_front_matter_key_given_twice_in_one_spelling_fails(tmp_path: Path) -> None:
    """YAML would keep the second council and drop the first without a word."""
    text = "---\ncouncil: Sefton Council\nmeeting_date: 2021-03-03\ncouncil: Bury Council\n---\nNoted.\n"
    problem = only_problem(read([write(tmp_path / "twice.md", text)]))
    assert problem.kind == "failed" and "'council' twice" in problem.reason
    assert "Keep one of the two 'council' lines" in problem.hint
    repeated_own_key = "---\ncouncil: Sefton Council\nnote: a\nnote: b\n---\nNoted.\n"
    assert only_item(read([write(tmp_path / "own.md", repeated_own_key)])).council == "Sefton Council"


def test_other_unknown_front_matter_keys_are_allowed(tmp_path: Path) -> None:
    text = "---\ncouncil: Sefton Council\nseed_file: seeds/a.txt\ntime: '18:30'\nsources: 2\n---\nNoted.\n"
    assert only_item(read([write(tmp_path / "extra.md", text)])).council == "Sefton Council"


def test_front_matter_after_blank_lines_is_read(tmp_path: Path) -> None:
    item = only_item(read([write(tmp_path / "blank.md", "\n  \n---\ncouncil: Sefton Council\n---\nNoted.\n")]))
    assert (item.council, item.text) == ("Sefton Council", "Noted.")


def test_front_matter_never_closed_fails(tmp_path: Path) -> None:
    text = "---\ncouncil: Sefton Council\nmeeting_date: 2021-03-03\n\nThe Sefton figure was 31.\n"
    problem = only_problem(read([write(tmp_path / "open.md", text)]))
    assert problem.kind == "failed" and "never closed" in problem.reason and "---" in problem.hint


@pytest.mark.parametrize("text", [
    "---\ncouncil: Sefton Council\ncommittee: Corporate Parenting Panel\nmeeting_date: 2024-04-10\n"
    "1. Looked After Children\n\nThere were 412 children looked after.\n",
    "---\nCouncil: Sefton Council\nThe Sefton figure was 31.\n",
])
def test_front_matter_never_closed_fails_when_the_text_follows_its_keys_at_once(tmp_path: Path, text: str) -> None:
    problem = only_problem(read([write(tmp_path / "open.md", text)]))
    assert problem.kind == "failed" and "never closed" in problem.reason and "horizontal rule" in problem.hint


@pytest.mark.parametrize("text", [
    "---\nThe meeting opened at 7pm: apologies were received.\n",
    "---\n\nPresent: Councillors A and B\nThe Committee noted the report.\n",
    "---\nPresent: Councillors A and B\n\nThe Committee noted the report.\n",
    "---\nPresent: Councillors A and B\nThe Committee noted the report.\n",
    "---\nVenue: Town Hall\nTime: 6pm\nThe Committee noted the report: council tax was not discussed.\n",
])
def test_a_horizontal_rule_before_prose_is_not_front_matter(tmp_path: Path, text: str) -> None:
    assert only_item(read([write(tmp_path / "rule.md", text)])).text == text.strip("\n")


@pytest.mark.parametrize(("written", "why"), [("2024-02-30", "is not a real date"), ("2024-13-01", "has no month 13")])
def test_an_impossible_front_matter_date_fails_naming_the_field_and_how_to_write_it(
        tmp_path: Path, written: str, why: str) -> None:
    text = f"---\ncouncil: Wyvern Borough Council\nmeeting_date: {written}\n---\n1. Item\n\nNoted.\n"
    problem = only_problem(read([write(tmp_path / "bad.md", text)]))
    assert problem.kind == "failed" and problem.reason == f"field 'meeting_date': '{written}' {why}"
    assert problem.hint.startswith("Write meeting_date as an ISO date: 2018-09-12")


def test_a_real_front_matter_date_is_still_read_as_yaml_reads_it(tmp_path: Path) -> None:
    text = "---\nmeeting_date: 2024-2-9\nperiod: 2024-02-30\n---\nNoted.\n"
    item = only_item(read([write(tmp_path / "dates.md", text)]))
    assert (item.meeting_date, item.period) == ("2024-02-09", "2024-02-30")


def test_front_matter_date_with_a_time_is_read_as_the_date(tmp_path: Path) -> None:
    text = "---\nmeeting_date: 2021-03-03 18:30\n---\nNoted.\n"
    assert only_item(read([write(tmp_path / "time.md", text)])).meeting_date == "2021-03-03"


# --- Missing paths, sizes, folders ----------------------------------------------------------


def test_missing_path_fails_and_the_rest_carry_on(tmp_path: Path) -> None:
    good = write(tmp_path / "good.txt", "Minutes.")
    results = read([tmp_path / "nowhere.md", good])
    problem = results[0]
    assert isinstance(problem, InputProblem) and problem.kind == "failed"
    assert problem.reason == "no such file or folder" and "path" in problem.hint
    assert items_of(results)[0].text == "Minutes."


def test_oversize_file_is_skipped_without_being_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cap = 100
    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * (4 * cap + 1))
    huge = tmp_path / "huge.md"
    with huge.open("wb") as f:
        f.truncate(50 * 1024 * 1024)  # sparse: 50 MB that must never be loaded
    opened: list[Path] = []
    real_read_bytes, real_open = Path.read_bytes, Path.open
    monkeypatch.setattr(Path, "read_bytes", lambda self: opened.append(self) or real_read_bytes(self))
    monkeypatch.setattr(Path, "open", lambda self, *a, **k: opened.append(self) or real_open(self, *a, **k))

    results = read([big, huge], cap=cap)
    assert [p.kind for p in problems_of(results)] == ["skipped", "skipped"]
    for problem in problems_of(results):
        assert "ASSISTANT_MAX_ITEM_CHARS" in problem.reason and "ASSISTANT_MAX_ITEM_CHARS" in problem.hint
    assert opened == []


def test_text_over_the_cap_after_decoding_is_skipped(tmp_path: Path) -> None:
    problem = only_problem(read([write(tmp_path / "long.txt", "x" * 30)], cap=10))
    assert problem.kind == "skipped" and "30 characters" in problem.reason
    assert "ASSISTANT_MAX_ITEM_CHARS" in problem.hint


def test_folder_walk_is_sorted_recursive_and_skips_hidden(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    for name in ["b.txt", "a.md", "sub/c.txt", "sub/deeper/d.md", ".hidden.md", ".git/x.md", ".assistant/y.txt"]:
        write(corpus / name, f"Minutes of {name}.")
    write(corpus / "picture.png", "not minutes")
    write(corpus / "data.json", "{}")
    write(corpus / "old.doc", "legacy word file")
    results = read([corpus])
    assert [i.source_id for i in items_of(results)] == [
        "file:a.md", "file:b.txt", "file:sub/c.txt", "file:sub/deeper/d.md",
    ]
    # Beside minutes, a file of a format ingest does not read is named (it may hold minutes); a picture is not.
    data, old_word = problems_of(results)
    assert data.kind == "skipped" and data.origin.endswith("data.json") and "(.json)" in data.reason
    assert old_word.kind == "skipped" and old_word.origin.endswith("old.doc") and ".docx" in old_word.hint
    assert results == read([corpus]), "the same input reads the same way every time"


def test_explicit_unsupported_file_names_the_supported_suffixes(tmp_path: Path) -> None:
    problem = only_problem(read([write(tmp_path / "notes.json", "{}")]))
    assert problem.kind == "skipped" and ".jsonl" in problem.hint and ".docx" in problem.hint


def test_a_file_named_explicitly_gets_the_same_advice_as_one_found_in_a_folder(tmp_path: Path) -> None:
    named = only_problem(read([write(tmp_path / "old.doc", "x")]))
    assert named.reason == ".doc files cannot be read" and "Save it as .docx" in named.hint
    pack = only_problem(read([write(tmp_path / "agenda-pack.zip", "x")]))
    assert pack.reason == "not a format ingest reads (.zip)" and "unzip it" in pack.hint


def test_unsupported_file_named_explicitly_is_reported_even_inside_a_named_folder(tmp_path: Path) -> None:
    path = write(tmp_path / "notes.json", "{}")
    folder, named = problems_of(read([tmp_path, path]))
    assert named.kind == "skipped" and named.origin == str(path)
    # The folder itself holds nothing ingest reads, and says so.
    assert folder.origin == str(tmp_path) and folder.reason == "folder holds no files ingest reads (it holds 1 .json)"


def test_a_file_named_twice_is_read_once(tmp_path: Path) -> None:
    path = write(tmp_path / "a.txt", "Minutes.")
    assert len(read([path, tmp_path, path])) == 1


# --- Source identity -------------------------------------------------------------------------


def test_source_id_prefers_url_then_id_then_file_relative_to_the_folder(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    write(corpus / "one.md", "---\nid: my-id\nsource_url: https://a.gov.uk/mgAi.aspx?ID=1\n---\nText.")
    write(corpus / "two.md", "---\nid: my-id-2\n---\nText.")
    write(corpus / "nested/three.md", "Text.")
    ids = [i.source_id for i in items_of(read([corpus], cwd=tmp_path))]
    assert ids == ["file:nested/three.md", "https://a.gov.uk/mgAi.aspx?ID=1", "my-id-2"]
    assert items_of(read([corpus], cwd=tmp_path / "elsewhere"))[0].source_id == "file:nested/three.md"


def test_named_file_is_known_relative_to_cwd_or_absolute_outside_it(tmp_path: Path) -> None:
    inside = write(tmp_path / "work" / "minutes" / "a.txt", "Text.")
    outside = write(tmp_path / "other" / "b.txt", "Text.")
    cwd = tmp_path / "work"
    relative, absolute = items_of(read([Path("minutes/a.txt"), outside], cwd=cwd))
    assert relative.source_id == "file:minutes/a.txt" and relative.origin == "minutes/a.txt"
    assert absolute.source_id == "file:" + outside.resolve().as_posix()
    assert inside.exists()


# --- JSON Lines -------------------------------------------------------------------------------


def jsonl_line(**fields) -> str:
    return json.dumps(fields, ensure_ascii=False)


def test_jsonl_broken_lines_are_reported_by_number_and_good_ones_kept(tmp_path: Path) -> None:
    lines = [
        jsonl_line(url="https://a.gov.uk/mgAi.aspx?ID=1", council="Barnet", title="One", date="", text="First."),
        "",
        '{"url": "https://a.gov.uk/mgAi.aspx?ID=2", "text": ',
        jsonl_line(url="https://a.gov.uk/mgAi.aspx?ID=3", title="Three", date="2019-03-06", text="Third \u00a3."),
        "[1, 2]",
        jsonl_line(url="https://a.gov.uk/mgAi.aspx?ID=4", title="No text"),
        jsonl_line(url="https://a.gov.uk/mgAi.aspx?ID=5", date="soon", text="Bad date."),
        jsonl_line(url="https://a.gov.uk/mgAi.aspx?ID=6", council=["a", "b"], text="Bad council."),
        jsonl_line(id="local-7", title="Seven", date=2018, text="Seventh.", committee="Cabinet", period="2017/18"),
        jsonl_line(title="Eight", text="No url, no id."),
    ]
    path = write(tmp_path / "minutes.jsonl", "\n".join(lines) + "\n")
    results = read([path], cwd=tmp_path)
    assert [i.source_id for i in items_of(results)] == [
        "https://a.gov.uk/mgAi.aspx?ID=1", "https://a.gov.uk/mgAi.aspx?ID=3", "local-7", "file:minutes.jsonl#line-10",
    ]
    first, third, seventh, _ = items_of(results)
    assert (first.council, first.item_title, first.origin) == ("Barnet", "One", f"{path}:1")
    assert (third.meeting_date, third.text) == ("2019-03-06", "Third \u00a3.")
    assert (seventh.meeting_date, seventh.committee, seventh.period) == ("2018", "Cabinet", "2017/18")
    problems = problems_of(results)
    assert [p.origin for p in problems] == [f"{path}:{n}" for n in (3, 5, 6, 7, 8)]
    assert all(p.kind == "failed" for p in problems)
    assert "JSON" in problems[0].reason and "text" in problems[2].reason and "'date'" in problems[3].reason


def test_jsonl_lines_known_by_their_numbers_keep_that_identity_and_a_note_says_how_to_avoid_it(tmp_path: Path) -> None:
    lines = [jsonl_line(title="Fostering", text="14 carers."), jsonl_line(id="adoption-1", text="22 children."),
             jsonl_line(title="Adoption", text="22 children.")]
    path = write(tmp_path / "export" / "minutes.jsonl", "\n".join(lines) + "\n")
    notes: list[str] = []
    items = items_of(read_inputs([tmp_path / "export"], CAP, index_folders=(), notes=notes))
    assert [i.source_id for i in items] == ["file:minutes.jsonl#line-1", "adoption-1", "file:minutes.jsonl#line-3"]
    (note,) = notes
    assert note.startswith(f"{path}: 2 of its lines have no url or id") and "renumbers" in note
    assert 'Give each line an "id" or a "url"' in note
    assert list(read_inputs([tmp_path / "export"], CAP)) == items, "without a list for notes, the items are the same"


def test_jsonl_lines_with_a_url_or_an_id_need_no_note(tmp_path: Path) -> None:
    path = write(tmp_path / "minutes.jsonl", jsonl_line(url="https://a.gov.uk/mgAi.aspx?ID=1", text="First.") + "\n")
    notes: list[str] = []
    assert len(items_of(read_inputs([path], CAP, notes=notes))) == 1 and notes == []


@pytest.mark.parametrize(("line", "kind"), [("null", "null"), ("42", "number"), ("[1, 2]", "list"),
                                            ('"minutes"', "string"), ("true", "true or false")])
def test_a_jsonl_line_that_is_not_an_object_says_what_it_is_in_json_words(tmp_path: Path, line: str, kind: str) -> None:
    problem = only_problem(read([write(tmp_path / "x.jsonl", line + "\n")]))
    assert problem.reason == f"the line is a JSON {kind}, not an object"


def test_a_jsonl_type_error_shows_how_to_write_the_field_in_json(tmp_path: Path) -> None:
    lines = [jsonl_line(id="a", council=["Sefton"], text="A."), jsonl_line(id="b", restricted="yes", text="B.")]
    council, restricted = problems_of(read([write(tmp_path / "x.jsonl", "\n".join(lines) + "\n")]))
    assert council.hint == 'Write council as text, e.g. "council": "Sefton Council"'
    assert restricted.hint == 'Write "restricted": true or "restricted": false.'


def test_a_front_matter_type_error_still_shows_how_to_write_the_field_in_yaml(tmp_path: Path) -> None:
    problem = only_problem(read([write(tmp_path / "x.md", "---\ncouncil: [Sefton]\n---\nNoted.\n")]))
    assert problem.hint == "Write council as text, e.g. council: Sefton Council"


def test_jsonl_keys_in_another_case_are_read_and_a_misspelt_key_fails_its_line(tmp_path: Path) -> None:
    """'Council' and 'URL' had been passed over as the writer's own keys, and 'councl' too: each line lost its
    council or web address without a word. A key close to one already given ('meeting_id' beside 'date') is an
    export's own field, and is kept."""
    lines = [
        jsonl_line(URL="https://a.gov.uk/mgAi.aspx?ID=1", Council="Barnet", Title="One", text="First."),
        jsonl_line(url="https://a.gov.uk/mgAi.aspx?ID=2", councl="Barnet", text="Second."),
        jsonl_line(url="https://a.gov.uk/mgAi.aspx?ID=3", date="2019-03-06", meeting_id=42, text="Third."),
        jsonl_line(url="https://a.gov.uk/mgAi.aspx?ID=4", council="Barnet", Council="Bury", text="Fourth."),
        '{"url": "https://a.gov.uk/mgAi.aspx?ID=5", "council": "Barnet", "council": "Bury", "text": "Fifth."}',
    ]
    path = write(tmp_path / "minutes.jsonl", "\n".join(lines) + "\n")
    results = read([path], cwd=tmp_path)
    first, third = items_of(results)
    assert (first.source_id, first.council, first.item_title) == ("https://a.gov.uk/mgAi.aspx?ID=1", "Barnet", "One")
    assert (third.source_id, third.meeting_date) == ("https://a.gov.uk/mgAi.aspx?ID=3", "2019-03-06")
    misspelt, twice, same_spelling = problems_of(results)
    assert misspelt.origin == f"{path}:2" and "'councl'" in misspelt.reason and "'council'" in misspelt.reason
    assert "Rename 'councl' to 'council' on the line" in misspelt.hint
    assert twice.origin == f"{path}:4" and "'council' twice" in twice.reason
    assert same_spelling.origin == f"{path}:5" and "'council' is given twice" in same_spelling.reason


@pytest.mark.parametrize("content, kind, reason", [
    (b"", "skipped", "holds no items"), (b"  \n\n", "skipped", "holds no items"),
    (b"{\"text\": \"x\"}\n\x00\x01\x02" * 50, "failed", "binary data, not JSON lines"),
])
def test_an_empty_or_binary_jsonl_file_is_one_problem(tmp_path: Path, content: bytes, kind: str, reason: str) -> None:
    path = tmp_path / "minutes.jsonl"
    path.write_bytes(content)
    results = read([path], cwd=tmp_path)
    assert items_of(results) == []
    [problem] = problems_of(results)
    assert (problem.origin, problem.kind) == (str(path), kind) and reason in problem.reason and problem.hint


def test_jsonl_restricted_line_yields_a_restricted_item(tmp_path: Path) -> None:
    lines = [
        jsonl_line(url="https://a.gov.uk/mgAi.aspx?ID=9", title="Panel", text="Child A was placed.", restricted=True),
        jsonl_line(url="https://a.gov.uk/mgAi.aspx?ID=10", title="Withdrawn", restricted=True),
    ]
    results = read([write(tmp_path / "r.jsonl", "\n".join(lines))])
    assert [(i.source_id, i.restricted, i.text) for i in items_of(results)] == [
        ("https://a.gov.uk/mgAi.aspx?ID=9", True, ""),
        ("https://a.gov.uk/mgAi.aspx?ID=10", True, ""),
    ]


def test_jsonl_over_long_lines_are_skipped_and_the_next_line_read(tmp_path: Path) -> None:
    lines = [
        jsonl_line(url="https://a.gov.uk/1", text="y" * 2000),  # text over the cap
        jsonl_line(url="https://a.gov.uk/2", text="z" * 200_000),  # line too long to even parse
        jsonl_line(url="https://a.gov.uk/3", text="ok"),
    ]
    path = write(tmp_path / "big.jsonl", "\n".join(lines))
    results = read([path], cap=1000)
    assert [(p.kind, p.origin) for p in problems_of(results)] == [("skipped", f"{path}:1"), ("skipped", f"{path}:2")]
    assert [i.source_id for i in items_of(results)] == ["https://a.gov.uk/3"]


def test_jsonl_whole_page_text_stays_one_item(tmp_path: Path) -> None:
    page_text = (
        "Agenda and minutes\n\nItems\nNo. Item\n\n70.\n\nAppeals\n\nMinutes:\n\nNone.\n\n"
        "71.\n\nExempt Information\n\nMinutes:\n\nNone."
    )
    line = jsonl_line(url=f"{SITE}/ieListDocuments.aspx?CId=1&MId=2", title="Meeting", text=page_text)
    item = only_item(read([write(tmp_path / "m.jsonl", line)]))
    assert item.text == page_text and "#" not in item.source_id


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_jsonl_in_utf16_with_a_byte_order_mark_is_read(tmp_path: Path, encoding: str) -> None:
    # PowerShell 5's "Out-File" and ">" write UTF-16 LE with a BOM.
    lines = [jsonl_line(url="https://a.gov.uk/1", title="One", text="The fee was \u00a31."),
             jsonl_line(url="https://a.gov.uk/2", title="Two", text="Noted.")]
    path = tmp_path / "ps.jsonl"
    data = "\r\n".join(lines).encode(encoding)
    path.write_bytes(data if encoding != "utf-16-be" else b"\xfe\xff" + data)
    results = read([path])
    assert [(i.source_id, i.text) for i in items_of(results)] == [
        ("https://a.gov.uk/1", "The fee was \u00a31."), ("https://a.gov.uk/2", "Noted."),
    ]


def test_jsonl_error_names_the_column_once(tmp_path: Path) -> None:
    path = write(tmp_path / "m.jsonl", '{"url": "https://a.gov.uk/1", "text": "broken\tline"}\n')
    problem = only_problem(read([path]))
    assert problem.reason == "not valid JSON: Invalid control character at column 46"  # the tab


@pytest.mark.shared
def test_dev_corpus_reads_to_111_items_keyed_by_url() -> None:
    corpus = SHARED / "corpus" / "dev_minutes.jsonl"
    if not corpus.exists():
        pytest.skip("../shared not found beside the checkout (only developers and CI have it)")
    results = read([corpus])
    items = items_of(results)
    assert not problems_of(results) and len(items) == 111
    with corpus.open(encoding="utf-8") as f:
        urls = [json.loads(line)["url"] for line in f]
    assert [i.source_id for i in items] == urls
    assert all(i.text and i.source_url == i.source_id for i in items)


@pytest.mark.shared
def test_seed_texts_read_verbatim() -> None:
    seeds = SHARED / "seeds"
    if not seeds.exists():
        pytest.skip("../shared not found beside the checkout (only developers and CI have it)")
    items = items_of(read([seeds]))
    assert len(items) == 5
    for item in items:
        raw = (seeds / item.source_id.removeprefix("file:")).read_text(encoding="utf-8")
        assert item.text == raw.replace("\r\n", "\n").strip("\n")
    assert items[0].item_title == "Children's Social Care Performance"


# --- ModernGov HTML ----------------------------------------------------------------------------


def test_mgai_page_is_one_item(tmp_path: Path) -> None:
    html = item_page(
        title="Children's Social Care Update",
        description="To receive an overview of Children's Social Care.",
        minutes=["The Committee received a presentation.", f"Members noted the plan.{NBSP}"],
    )
    item = only_item(read([write(tmp_path / "mgAi.aspx.html", html)]))
    assert item.source_id == item.source_url == f"{SITE}/mgAi.aspx?ID=23547"
    assert item.item_title == "Children's Social Care Update"
    assert (item.council, item.committee, item.meeting_date) == (
        "Example Borough Council", "Children's Services Scrutiny Committee", "2022-09-20",
    )
    assert item.text.startswith("Agenda item\n\nChildren's Social Care Update")
    assert "Minutes:\n\nThe Committee received a presentation.\n\nMembers noted the plan." in item.text
    assert "· Report PDF 120 KB" in item.text
    for chrome in ("Cookie", "Home", "document.write", "font-family"):
        assert chrome not in item.text


@pytest.mark.parametrize("line, committee, date", [
    ("Meeting of Social Care and Wellbeing Scrutiny Committee, Thursday, 7th December, 2023 10.00 am (Item 32.)",
     "Social Care and Wellbeing Scrutiny Committee", "2023-12-07"),
    ("Meeting of Children, Adults, Health and Wellbeing Policy Development and Scrutiny Panel, Monday 13th October "
     "2025 9.30 am (Item 47.)", "Children, Adults, Health and Wellbeing Policy Development and Scrutiny Panel",
     "2025-10-13"),
])
def test_an_older_themes_meeting_line_gives_the_item_its_committee_and_date(tmp_path: Path, line, committee, date):
    """Older ModernGov themes head an item page 'Meeting of <committee>, <day and date> <time> (Item N.)', not
    'Meeting: dd/mm/yyyy - <committee> (Item N)': such a page had been read undated and with no committee, so a date
    filter left it out."""
    html = item_page(title="Minutes", description="", minutes=["The minutes were approved."]).replace(
        '<p><span class="mgLabel">Meeting: </span><a href="ieListDocuments.aspx?MId=1">'
        "20/09/2022 - Children&#x27;s Services Scrutiny Committee (Item 7.)</a></p>", f"<p>{line}</p>")
    assert line in html
    item = only_item(read([write(tmp_path / "mgAi.aspx.html", html)]))
    assert (item.committee, item.meeting_date) == (committee, date)


THREE_ROWS = [
    Row("5.", "Apologies for Absence", minutes=["Apologies were received from Councillor Ahmed."]),
    Row(
        "6.",
        "Children's Social Care Annual Report",
        description="Report of the Director of Social Care.",
        minutes=["The Committee considered the report.", "RESOLVED: That the report be noted."],
        bullets=["Care leavers", "Front door"],
    ),
    Row("7.", "Work Programme", minutes=["The work programme was agreed."]),
]


def test_meeting_page_is_split_into_one_item_per_agenda_row(tmp_path: Path) -> None:
    results = read([write(tmp_path / "meeting.html", meeting_page(THREE_ROWS))])
    items = items_of(results)
    base = f"{SITE}/ieListDocuments.aspx?CId=130&MId=6439&Ver=4"
    assert [i.source_id for i in items] == [f"{base}#item-5", f"{base}#item-6", f"{base}#item-7"]
    assert [i.item_title for i in items] == [r.title for r in THREE_ROWS]
    assert {(i.committee, i.meeting_date, i.council, i.source_url) for i in items} == {
        ("Children's Services Scrutiny Committee", "2022-09-20", "Example Borough Council", base)
    }
    apologies, report, programme = (i.text for i in items)
    assert apologies == "Apologies for Absence PDF 60 KB\n\nMinutes:\n\nApologies were received from Councillor Ahmed."
    assert report == (
        "Children's Social Care Annual Report PDF 60 KB\n\nReport of the Director of Social Care.\n\nMinutes:\n\n"
        "The Committee considered the report.\n\nRESOLVED: That the report be noted.\n\n· Care leavers\n· Front door"
    )
    assert "work programme" not in report.lower() and "Apologies" not in report and "Ahmed" not in programme


def test_meeting_rows_without_usable_numbers_use_positions(tmp_path: Path) -> None:
    rows = [Row("", "Welcome", minutes=["Hello."]), Row("", "Minutes", minutes=["Agreed."])]
    path = write(tmp_path / "meeting.htm", meeting_page(rows, url=None))
    ids = [i.source_id for i in items_of(read([tmp_path], cwd=tmp_path))]
    assert ids == ["file:meeting.htm#item-1", "file:meeting.htm#item-2"]
    assert path.exists()


def test_meeting_numbers_are_made_safe_for_a_fragment(tmp_path: Path) -> None:
    rows = [Row("PEO/12/25", "Evacuation Procedure", minutes=["Noted."]), Row("7(a)", "Sub item", minutes=["Noted."])]
    ids = [i.source_id.split("#")[1] for i in items_of(read([write(tmp_path / "m.html", meeting_page(rows))]))]
    assert ids == ["item-PEO-12-25", "item-7(a)"]


def test_issue_page_is_one_item_with_all_its_decisions(tmp_path: Path) -> None:
    html = issue_page(
        title="Children's Social Care Annual Report",
        meetings=[
            ("11/09/2018 - Overview and Scrutiny Committee (Item 6)", "6", ["The Committee noted the annual report."]),
            ("21/06/2017 - Overview and Scrutiny Committee (Item 5)", "5", ["The Committee asked for a further report."]),
        ],
    )
    item = only_item(read([write(tmp_path / "ieIssueDetails.aspx", html)]))
    assert item.source_id == f"{SITE}/ieIssueDetails.aspx?IId=53893&Opt=3"
    assert item.item_title == "Children's Social Care Annual Report"
    assert (item.committee, item.meeting_date) == ("Overview and Scrutiny Committee", "2018-09-11")
    assert "noted the annual report" in item.text and "asked for a further report" in item.text


RESTRICTED_MARKUP = {
    "reasons link": Row(
        "9.", "Placement Contract Award", minutes=["Confidential discussion."],
        extra_title_html='<p><a href="mgReasonsRestricted.aspx?OID=4521&amp;OT=I">Restricted item</a></p>',
    ),
    "exempt in title": Row("9.", "Placement Contract Award (Exempt)", minutes=["Confidential discussion."]),
    "restricted icon": Row(
        "9.", "Placement Contract Award", minutes=["Confidential discussion."],
        number_html='<p class="mgAiTitleTxt">9.</p><img src="restricted.gif" alt="Restricted">',
    ),
    "exempt row class": Row("9.", "Placement Contract Award", minutes=["Confidential discussion."], row_class="mgExemptItem"),
}


@pytest.mark.parametrize("marker", sorted(RESTRICTED_MARKUP))
def test_restricted_row_is_marked_and_its_neighbour_mentioning_exemption_kept(tmp_path: Path, marker: str) -> None:
    rows = [
        Row(
            "8.", "Council Tax Exemption for Care Leavers",
            description="To consider exempt information about the council tax exemption.",
            minutes=["The Committee supported the council tax exemption for care leavers."],
        ),
        RESTRICTED_MARKUP[marker],
        Row("10.", "Exempt Information - Possible Exclusion of the Press and Public", minutes=["No exempt items."]),
    ]
    kept, restricted, exclusion = items_of(read([write(tmp_path / "m.html", meeting_page(rows))]))
    assert not kept.restricted and "council tax exemption for care leavers" in kept.text
    assert restricted.restricted and restricted.text == "" and restricted.source_id.endswith("#item-9")
    assert "Confidential discussion" not in kept.text + exclusion.text
    assert not exclusion.restricted


def test_restricted_appendix_leaves_the_item_public(tmp_path: Path) -> None:
    row = Row(
        "4.", "Sufficiency Strategy", minutes=["Agreed."],
        extra_title_html=(
            '<p><a href="mgReasonsRestricted.aspx?OID=77&amp;OT=D">'
            "View the reasons why document Appendix B is restricted</a></p>"
        ),
    )
    item = only_item(read([write(tmp_path / "m.html", meeting_page([row]))]))
    assert not item.restricted and "Agreed." in item.text


def test_restricted_mgai_page(tmp_path: Path) -> None:
    html = item_page(title="Residential Placement (Exempt)", description="Exempt report.", minutes=["Names."])
    item = only_item(read([write(tmp_path / "page.html", html)]))
    assert item.restricted and item.text == "" and item.source_id == f"{SITE}/mgAi.aspx?ID=23547"


def test_page_about_exemption_is_not_restricted(tmp_path: Path) -> None:
    html = item_page(
        title="Council Tax Exemption for Care Leavers",
        description="To consider exempt information in Appendix 2.",
        minutes=["The exemption was extended to care leavers up to 25."],
    )
    item = only_item(read([write(tmp_path / "page.html", html)]))
    assert not item.restricted and "extended to care leavers" in item.text


@pytest.mark.parametrize(
    "html",
    [
        meeting_page(THREE_ROWS)[:-900],  # truncated mid-row
        meeting_page(THREE_ROWS).replace("</p>", "").replace("</td>", "").replace("</tr>", ""),
        "<html><body><div id='modgov'><h1>Agenda item<p>Half a page <b>bold <ul><li>one<li>two",
        "<<<>>> &&& </div></table> <p",
    ],
)
def test_malformed_html_gives_items_or_a_clean_problem(tmp_path: Path, html: str) -> None:
    results = read([write(tmp_path / "broken.html", html)])
    assert results
    for result in results:
        if isinstance(result, InputProblem):
            assert result.kind in ("failed", "skipped")
        else:
            assert result.text.strip() and "<" not in result.text.replace("<<<>>>", "")


def test_unclosed_rows_do_not_leak_text_between_items(tmp_path: Path) -> None:
    html = meeting_page(THREE_ROWS).replace("</td>\n</tr>", "")
    items = items_of(read([write(tmp_path / "m.html", html)]))
    assert [i.source_id.split("#")[1] for i in items] == ["item-5", "item-6", "item-7"]
    assert "Ahmed" not in items[1].text + items[2].text


def test_saved_from_comment_gives_the_url(tmp_path: Path) -> None:
    html = "<!-- saved from url=(0047)https://democracy.blackpool.gov.uk/mgAi.aspx?ID=38109 -->\n" + item_page(
        title="Children's Social Care Update", description="Overview.", minutes=["Noted."], url=None, council=None,
    )
    item = only_item(read([write(tmp_path / "saved.html", html)]))
    assert item.source_id == "https://democracy.blackpool.gov.uk/mgAi.aspx?ID=38109"
    assert item.council == ""


def test_plain_html_without_moderngov_classes(tmp_path: Path) -> None:
    html = (
        "<html><head><title>Corporate Parenting Board</title></head>"
        "<body><h1>Corporate Parenting Board</h1><p>The Board met.</p></body></html>"
    )
    item = only_item(read([write(tmp_path / "board.html", html)], cwd=tmp_path))
    assert (item.item_title, item.source_id) == ("Corporate Parenting Board", "file:board.html")
    assert item.text == "Corporate Parenting Board\n\nThe Board met."


def test_a_council_site_page_leaves_out_its_cookie_banner_menus_and_footer(tmp_path: Path) -> None:
    # As CMIS and councils' own sites save their pages: the minutes inside the site's furniture.
    html = (
        "<html><head><title>Children's Services Scrutiny Panel - 03/04/2021 | Example County Council</title></head><body>"
        "<div id='cookie-banner' class='cookie-notice'><h2>Cookies on this site</h2><p>We use cookies.</p></div>"
        "<div class='consent-dialog'><p>Accept all</p></div>"
        "<div class='header'><ul class='menu'><li><a href='/'>Home</a></li><li>Meetings</li></ul></div>"
        "<ol class='breadcrumbs'><li>Home</li><li>Meetings</li></ol><nav><a href='/a'>A to Z</a></nav>"
        "<div id='content'><h2>Agenda item</h2><h1>Children's Services Scrutiny Panel</h1><p>Date: 03/04/2021</p>"
        "<p>The Panel noted that 56 foster carers were approved.</p></div>"
        "<aside><p>Related pages</p></aside>"
        "<div class='footer'><p>© Example County Council 2021. Privacy notice.</p></div></body></html>"
    )
    item = only_item(read([write(tmp_path / "cmis.html", html)]))
    assert item.item_title == "Children's Services Scrutiny Panel"
    assert item.text == (
        "Agenda item\n\nChildren's Services Scrutiny Panel\n\nDate: 03/04/2021\n\n"
        "The Panel noted that 56 foster carers were approved."
    )


def test_page_without_a_content_element_still_leaves_out_page_furniture(tmp_path: Path) -> None:
    html = (
        "<html><body><header><a href='/'>Example Council</a><form>Search</form></header>"
        "<div role='navigation'>Jump to</div>"
        "<article><header><h1>Fostering Panel</h1></header><p>The Panel met.</p>"
        "<footer><p>Minute 12 of 2021</p></footer></article>"
        "<footer><p>Privacy notice</p></footer></body></html>"
    )
    item = only_item(read([write(tmp_path / "page.html", html)]))
    # An article's own header and footer are part of it: only the page's are furniture.
    assert (item.item_title, item.text) == ("Fostering Panel", "Fostering Panel\n\nThe Panel met.\n\nMinute 12 of 2021")


# A table as Word saves it into HTML (ModernGov minutes bodies are Word HTML): a paragraph in every cell.
WORD_HTML_TABLE = """<p class="MsoNormal">The Committee noted the following figures:</p>
<table class="MsoTableGrid" border="1" cellspacing="0" cellpadding="0">
 <tr><td><p class="MsoNormal"><b>Measure</b></p></td><td><p class="MsoNormal"><b>March 2023</b></p></td>
     <td><p class="MsoNormal"><b>March 2024</b></p></td><td><p class="MsoNormal">&nbsp;</p></td></tr>
 <tr><td><p class="MsoNormal">Children looked after</p></td><td><p class="MsoNormal">410</p></td>
     <td><p class="MsoNormal">432</p><p class="MsoNormal">(up 5%)</p></td></tr>
 <tr><td colspan="3"><p class="MsoNormal">Source: the performance report.</p>
     <p class="MsoNormal">Figures at 31 March.</p></td></tr>
</table>
<table><tr><td><p>Minute 12</p></td><td><p></p><table><tr><td><p>56 children placed out of area</p></td></tr>
<tr><td>Adoptions</td><td>27</td></tr></table></td></tr></table>
<p class="MsoNormal">RESOLVED: That the report be noted.</p>"""


def test_html_table_rows_are_one_line_each_with_cells_joined_as_word_tables_are(tmp_path: Path) -> None:
    from assistant.ingest.readers.docx import CELL_SEPARATOR

    html = item_page(title="Performance", description="The performance report.", minutes=[])
    html = html.replace('<div class="mgWordPara"></div>', f'<div class="mgWordPara">{WORD_HTML_TABLE}</div>')
    text = only_item(read([write(tmp_path / "mgAi.aspx.html", html)])).text
    # A figure on a line of its own, away from its label, could not be found or quoted as the answer. A row of one
    # cell keeps its paragraphs; a table inside a cell gives a line to each of its rows; trailing empty cells go.
    assert CELL_SEPARATOR == " | "
    assert ("Minutes:\n\nThe Committee noted the following figures:\n\n"
            "Measure | March 2023 | March 2024\n"
            "Children looked after | 410 | 432 (up 5%)\n\n"
            "Source: the performance report.\n\nFigures at 31 March.\n\n"
            "Minute 12 | 56 children placed out of area\nAdoptions | 27\n\n"
            "RESOLVED: That the report be noted.") in text


def test_moderngov_page_tables_still_read_as_blocks(tmp_path: Path) -> None:
    html = issue_page(title="Annual Report", meetings=[("11/09/2018 - Scrutiny Committee (Item 6)", "6", ["Noted."])])
    text = only_item(read([write(tmp_path / "ieIssueDetails.aspx", html)])).text
    assert "6\n\nAnnual Report PDF 60 KB\n\nDecision:\n\nNoted." in text  # a layout table, not figures


def test_html_item_over_the_cap_is_skipped_alone(tmp_path: Path) -> None:
    rows = [Row("1.", "Short", minutes=["Ok."]), Row("2.", "Long", minutes=["z" * 500])]
    results = read([write(tmp_path / "m.html", meeting_page(rows))], cap=300)
    assert isinstance(results[0], MinuteItem) and results[0].item_title == "Short"
    assert isinstance(results[1], InputProblem) and results[1].kind == "skipped" and "item 2" in results[1].reason


def test_binary_with_html_extension_fails(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_bytes(b"\x00\x01\x02" * 100)
    assert only_problem(read([path])).kind == "failed"


@pytest.mark.parametrize("title", ["Agenda item - Full Council", "Minutes - Corporate Parenting Panel - County Hall",
                                   "Meeting of Council - Borough", "Fostering | The Metropolitan Borough Council"])
def test_a_page_title_naming_no_place_gives_no_council(tmp_path: Path, title: str) -> None:
    html = f"<html><head><title>{title}</title></head><body><main><h1>Fostering</h1><p>Noted.</p></main></body></html>"
    assert only_item(read([write(tmp_path / "page.html", html)])).council == ""


@pytest.mark.parametrize(("title", "council"), [("Minutes | Sefton Council", "Sefton Council"),
                                                ("Agenda item - Royal Borough of Greenwich", "Royal Borough of Greenwich")])
def test_a_page_title_naming_a_place_gives_the_council(tmp_path: Path, title: str, council: str) -> None:
    html = f"<html><head><title>{title}</title></head><body><main><h1>Fostering</h1><p>Noted.</p></main></body></html>"
    assert only_item(read([write(tmp_path / "page.html", html)])).council == council


@pytest.mark.parametrize(("declaration", "encoding"), [
    ("<meta charset='utf-8'>", "cp1252"),  # declared UTF-8, saved as Windows-1252
    ("<meta http-equiv='Content-Type' content='text/html; charset=windows-1252'>", "utf-8"),  # the other way round
    ("<meta charset='iso-8859-1'>", "cp1252"),  # Word's HTML: Latin-1 declared, Windows-1252 quotes used
    ("<meta charset='windows-1252'>", "cp1252"),  # as declared
    ("", "cp1252"),  # nothing declared
])
def test_html_is_decoded_as_it_was_saved_whatever_it_declares(tmp_path: Path, declaration: str, encoding: str) -> None:
    text = "The Caf\u00e9 scheme paid \u00a3250 a week \u2013 the Director\u2019s report."
    path = tmp_path / "page.html"
    path.write_bytes(f"<html><head>{declaration}</head><body><main><p>{text}</p></main></body></html>".encode(encoding))
    assert only_item(read([path])).text == text


# --- PDF and Word ------------------------------------------------------------------------------


def test_pdf_text_and_title(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "minutes.pdf", ["Corporate Parenting Panel", "Minutes:", "The Panel noted the report."],
                    title="Microsoft Word - Corporate Parenting Minutes.docx")
    item = only_item(read([path], cwd=tmp_path))
    assert item.source_id == "file:minutes.pdf"
    assert item.item_title == "Corporate Parenting Minutes"
    assert "The Panel noted the report." in item.text and "Minutes:" in item.text


def test_pdf_title_falls_back_to_first_line(tmp_path: Path) -> None:
    item = only_item(read([make_pdf(tmp_path / "m.pdf", ["Fostering Annual Report", "Noted."])]))
    assert item.item_title == "Fostering Annual Report"


def test_scanned_pdf_is_skipped_with_ocr_hint(tmp_path: Path) -> None:
    problem = only_problem(read([make_image_only_pdf(tmp_path / "scan.pdf")]))
    assert problem.kind == "skipped" and "OCR" in problem.hint and "export the text" in problem.hint


@pytest.mark.parametrize(("first_page", "header", "footer"), [
    (["Public Document Pack"], "", "Page {page}"),
    ([], "Stampshire Metropolitan Borough Council", "{page}"),
])
def test_a_scan_with_a_stamp_or_running_header_is_skipped_with_ocr_hint(
    tmp_path: Path, first_page: list[str], header: str, footer: str
) -> None:
    path = make_paged_pdf(tmp_path / "scan.pdf", [first_page, [], [], [], []], header=header, footer=footer)
    problem = only_problem(read([path]))
    assert problem.kind == "skipped" and "OCR" in problem.hint and "almost no text" in problem.reason


def test_short_pdfs_with_real_text_are_still_read(tmp_path: Path) -> None:
    one_page = make_pdf(tmp_path / "one.pdf", ["Noted."])
    two_pages = make_paged_pdf(tmp_path / "two.pdf", [
        ["Corporate Parenting Panel", "The Panel noted the report on the sufficiency of foster placements."],
        ["Signed: Chair"],
    ])
    assert len(items_of(read([one_page, two_pages]))) == 2


def test_a_web_page_saved_as_pdf_is_named_as_one(tmp_path: Path) -> None:
    path = write(tmp_path / "minutes.pdf", "\ufeff\n<!DOCTYPE html><html><head><title>Sign in</title></head>"
                                           "<body><p>You need to sign in.</p></body></html>")
    problem = only_problem(read([path]))
    assert problem.kind == "failed" and "web page" in problem.reason and "not a PDF" in problem.reason
    assert "download the PDF itself" in problem.hint


def test_encrypted_pdf_fails(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "locked.pdf", ["Secret"], user_password="letmein")
    problem = only_problem(read([path]))
    assert problem.kind == "failed" and "encrypted" in problem.reason


def test_aes_pdf_with_only_an_owner_password_is_read(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "restricted.pdf", ["Corporate Parenting Panel", "The Panel noted the report."],
                    aes_owner_password="no-printing")
    assert "The Panel noted the report." in only_item(read([path])).text


def test_a_missing_decryption_library_is_named_with_its_install_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pypdf._crypt_providers import _fallback

    path = make_pdf(tmp_path / "restricted.pdf", ["Noted."], aes_owner_password="no-printing")
    # What pypdf does where cryptography is not installed: its own AES stand-in refuses.
    monkeypatch.setattr("pypdf._encryption.CryptAES", _fallback.CryptAES)
    problem = only_problem(read([path]))
    assert problem.kind == "failed" and "cryptography" in problem.reason
    assert "pip install" in problem.hint and "cryptography" in problem.hint


def test_pdf_running_headers_footers_and_page_numbers_are_left_out(tmp_path: Path) -> None:
    pages = [["Minutes of the meeting held on 3 March 2021", "Apologies were received."],
             ["The Panel noted the report.", "Placements out of area:", "12"],
             ["Fostering was discussed."], ["The meeting closed at 8pm."]]
    header = "Children's Scrutiny Committee - 3 March 2021"
    for footer in ("Page {page} of 4", "{page}", "- {page} -"):
        path = make_paged_pdf(tmp_path / "m.pdf", pages, header=header, footer=footer)
        assert only_item(read([path])).text == (
            f"{header}\nMinutes of the meeting held on 3 March 2021\nApologies were received.\n\n"
            "The Panel noted the report.\nPlacements out of area:\n12\n\n"  # a figure, not a page number
            "Fostering was discussed.\n\nThe meeting closed at 8pm."
        ), footer


def test_pdf_words_hyphenated_at_a_line_end_are_joined(tmp_path: Path) -> None:
    """The hyphen goes only when the word is written whole elsewhere in the document ('safeguarding'); a compound's
    own hyphen stays ('Anti-Social', 'step-down')."""
    path = make_paged_pdf(tmp_path / "m.pdf", [["Safeguarding was reviewed.", "Members asked about safe-",
                                                "guarding thresholds and the", "Anti-",
                                                "Social Behaviour team's step-", "down work."]])
    text = only_item(read([path])).text
    assert "asked about safeguarding thresholds" in text
    assert "Anti-Social Behaviour team's step-down work." in text


def test_pdf_lines_the_layout_wrapped_are_joined_so_sentences_stay_whole(tmp_path: Path) -> None:
    from assistant.text import sentence_spans

    path = make_paged_pdf(tmp_path / "m.pdf", [[
        "Item 7: Fostering Update", "the Director reported that 777 children were looked after, a rise from the previous",
        "quarter. It was noted that 7 new", "foster carers had been approved.", "RESOLVED:", "that the report be noted.",
        "Members asked about", "(a) placements;", "b) recruitment; and", "ii) allowances", "o respite",
        "Referrals 1,234", "Re-referrals 17%", "The Panel asked", "Members to visit.",
    ]])
    text = only_item(read([path])).text
    assert text == (
        "Item 7: Fostering Update the Director reported that 777 children were looked after, a rise from the previous "
        "quarter. It was noted that 7 new foster carers had been approved.\nRESOLVED:\nthat the report be noted.\n"
        "Members asked about\n(a) placements;\nb) recruitment; and\nii) allowances\no respite\n"
        "Referrals 1,234\nRe-referrals 17%\nThe Panel asked\nMembers to visit."
    )
    sentences = [span.of(text) for span in sentence_spans(text)]
    assert "It was noted that 7 new foster carers had been approved." in sentences


def test_a_pdf_sentence_going_on_over_a_page_break_stays_whole(tmp_path: Path) -> None:
    """The page's footer and the next page's header sit between its halves; a page that starts a new sentence, or
    a heading, still starts its own paragraph."""
    pages = [
        ["Corporate Parenting Panel", "Minutes of the meeting on 3 March 2021", "1. Fostering",
         "The Panel heard that the service had recruited 7 new", "Page 1 of 3"],
        ["Corporate Parenting Panel", "foster carers since April.", "2. Care leavers", "The offer was noted.",
         "Page 2 of 3"],
        ["Corporate Parenting Panel", "Members asked about rents.", "Page 3 of 3"],
    ]
    text = only_item(read([make_paged_pdf(tmp_path / "m.pdf", pages)])).text
    assert "The Panel heard that the service had recruited 7 new foster carers since April.\n" in text
    assert "The offer was noted.\n\nMembers asked about rents." in text


def test_pdf_ligatures_are_spelled_out_and_no_other_character_changed() -> None:
    from assistant.ingest.readers.pdf import without_page_furniture

    page = "The \ufb01nancial of\ufb01cer's \ufb02at \ufb00ect: \u00bd of the \uff14 plans, 10\u00b2 m\u00b2"
    assert without_page_furniture([page]) == "The financial officer's flat ffect: \u00bd of the \uff14 plans, 10\u00b2 m\u00b2"


def test_pdf_meeting_date_comes_from_the_first_page(tmp_path: Path) -> None:
    held = make_pdf(tmp_path / "held.pdf", ["Public Document Pack", "CHILDREN'S SCRUTINY COMMITTEE",
                                            "Minutes of the meeting held on Wednesday, 3rd March 2021"])
    dated = make_pdf(tmp_path / "dated.pdf", ["Corporate Parenting Panel", "Date: 04/05/2021", "Noted."])
    undated = make_pdf(tmp_path / "undated.pdf", ["Fostering Annual Report", "Noted on 1 June 2021."])
    items = items_of(read([held, dated, undated]))
    assert [item.meeting_date for item in items] == ["2021-03-03", "2021-05-04", ""]  # UK order: day first
    assert items[0].item_title == "CHILDREN'S SCRUTINY COMMITTEE"  # never "Public Document Pack"


@pytest.mark.parametrize(("line", "date"), [
    ("MINUTES OF THE MEETING HELD ON: 3 MARCH 2021", "2021-03-03"),
    ("held on 3rd of March 2021", "2021-03-03"),
    ("Date: 2021-03-08", "2021-03-08"),
    ("Meeting held virtually on Monday 8 March 2021 at 2.00 pm", "2021-03-08"),
])
def test_more_ways_a_first_page_states_the_meeting_date(tmp_path: Path, line: str, date: str) -> None:
    path = make_pdf(tmp_path / "m.pdf", ["Corporate Parenting Board", line, "Noted."])
    assert only_item(read([path])).meeting_date == date


@pytest.mark.parametrize("title", [
    "Document1", "untitled", "Untitled document", "PowerPoint Presentation", "Presentation1",
    "C:\\Users\\jbloggs\\Documents\\Minutes CSC 03-03-21.docx", "Minutes CSC 03-03-21.docx",
    "Microsoft Word - minutes.docx", "Microsoft Word - Document1",
])
def test_a_title_a_program_gave_an_unnamed_document_is_not_used(tmp_path: Path, title: str) -> None:
    path = make_pdf(tmp_path / "m.pdf", ["Corporate Parenting Board", "Noted."], title=title)
    assert only_item(read([path])).item_title == "Corporate Parenting Board"


def test_public_document_pack_is_never_a_title(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "pack.pdf", ["Fostering Panel", "Noted."], title="Public Document Pack")
    word = make_docx(tmp_path / "pack.docx", heading="Public Document Pack", paragraphs=["Adoption Panel", "Noted."])
    assert [item.item_title for item in items_of(read([pdf, word]))] == ["Fostering Panel", "Adoption Panel"]


def test_word_meeting_date_comes_from_its_opening_text(tmp_path: Path) -> None:
    path = make_docx(tmp_path / "m.docx", heading="Adoption Panel",
                     paragraphs=["Minutes of a meeting of the Adoption Panel held at the Town Hall on 12 September 2018"])
    assert only_item(read([path])).meeting_date == "2018-09-12"


def test_text_and_other_html_take_the_meeting_date_their_opening_states(tmp_path: Path) -> None:
    """Minutes saved as text, or from a site other than ModernGov, state their date as PDFs and Word files do; a date
    that front matter gives, even an empty one, is kept."""
    text = write(tmp_path / "held.txt", "Corporate Parenting Panel\nMinutes of the meeting held on Wednesday, "
                                        "3rd March 2021\nThe Panel noted the report.\n")
    stated = write(tmp_path / "stated.md", "---\nmeeting_date: 2020-01-15\n---\nDate: 04/05/2021\nNoted.\n")
    empty = write(tmp_path / "empty.md", "---\nmeeting_date: ''\n---\nHeld on 4 May 2021.\nNoted.\n")
    undated = write(tmp_path / "undated.txt", "Fostering Annual Report\nNoted on 1 June 2021.\n")
    page = write(tmp_path / "page.html", "<html><body><h1>Children's Scrutiny Committee</h1>"
                                         "<p>Date: Tuesday 12 March 2019</p><p>The Committee noted the report.</p>"
                                         "</body></html>")
    dates = {Path(item.origin).name: item.meeting_date for item in items_of(read([text, stated, empty, undated, page]))}
    assert dates == {"held.txt": "2021-03-03", "stated.md": "2020-01-15", "empty.md": "", "undated.txt": "",
                     "page.html": "2019-03-12"}


def test_a_document_far_larger_than_its_text_is_read(tmp_path: Path) -> None:
    # Fonts and images make a PDF or Word file many times larger than its text: the cap is on the text.
    pdf = make_pdf(tmp_path / "m.pdf", ["The Panel noted the report."])
    word = make_docx(tmp_path / "m.docx", heading="Panel", paragraphs=["Noted."])
    cap = 40
    assert min(pdf.stat().st_size, word.stat().st_size) > 20 * cap  # more bytes than any ratio to text allows
    assert len(items_of(read([pdf, word], cap=cap))) == 2


def test_document_text_over_the_cap_is_skipped(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "m.pdf", ["The Panel noted the report on fostering."])
    word = make_docx(tmp_path / "m.docx", heading="Panel", paragraphs=["The Panel noted the report on fostering."])
    for problem in problems_of(read([pdf, word], cap=20)):
        assert problem.kind == "skipped" and "ASSISTANT_MAX_ITEM_CHARS" in problem.reason
    assert len(problems_of(read([pdf, word], cap=20))) == 2


def test_a_document_over_the_byte_limit_is_not_opened(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import assistant.ingest.readers.common as common

    pdf = make_pdf(tmp_path / "m.pdf", ["Noted."])
    word = make_docx(tmp_path / "m.docx", heading="Panel", paragraphs=["Noted."])
    monkeypatch.setattr(common, "DOCUMENT_FILE_MAX_BYTES", 500)
    problems = problems_of(read([pdf, word]))
    assert [p.kind for p in problems] == ["skipped", "skipped"]
    assert all("500 bytes" in p.reason and ".txt" in p.hint for p in problems)


def test_a_pdf_whose_text_takes_too_long_to_read_is_given_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A small PDF whose every page draws from one huge shared stream had taken seconds a page, holding the index's
    lock as long (from a security review): reading stops when the time is up."""
    import assistant.ingest.readers.pdf as pdf_reader

    pdf = make_paged_pdf(tmp_path / "m.pdf", [[f"The Panel noted report {n} on fostering and adoption, line {k}, "
                                               "and asked officers for the figures by ward." for k in range(12)]
                                              for n in range(3)])
    monkeypatch.setattr(pdf_reader, "PDF_READ_SECONDS", 0.0)
    problem = only_problem(read([pdf]))
    assert problem.kind == "skipped" and "so it was given up" in problem.reason and "by page 1 of 3" in problem.reason
    monkeypatch.undo()
    assert len(items_of(read([pdf]))) == 1


def test_a_word_file_that_unzips_to_far_more_than_minutes_need_is_not_opened(tmp_path: Path) -> None:
    """A zip bomb: a Word file of a few MB had unzipped to gigabytes in memory before the text cap was looked at
    (from a security review). Its zip directory's sizes are read first; a file of the same minutes is read."""
    import zipfile

    word = make_docx(tmp_path / "m.docx", heading="Panel", paragraphs=["The Panel noted the report."])
    # The padding in the document's XML, or in a part whose name does not end .xml (its type is what
    # [Content_Types].xml says, so a renamed document is read all the same: from a code review).
    for padded_part in ("word/document.xml", "word/extra.dat"):
        padded = tmp_path / "padded.docx"
        with zipfile.ZipFile(word) as source, zipfile.ZipFile(padded, "w", zipfile.ZIP_DEFLATED) as target:
            for part in source.infolist():
                data = source.read(part)
                if part.filename == padded_part:
                    data = data.replace(b"</w:body>", b" " * (20 << 20) + b"</w:body>")
                target.writestr(part, data)
            if padded_part not in source.namelist():
                target.writestr(padded_part, b" " * (20 << 20))
        assert padded.stat().st_size < 1 << 20
        problem = only_problem(read([padded], cap=10_000))
        assert problem.kind == "skipped" and "unzips to 2" in problem.reason and "16,777,216" in problem.reason
        assert ".txt" in problem.hint
    assert len(items_of(read([word], cap=10_000))) == 1


@pytest.mark.parametrize("content", [b"%PDF-1.7\n garbage that ends early", b"not a pdf at all"])
def test_corrupt_pdf_fails_cleanly(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken.pdf"
    path.write_bytes(content)
    problem = only_problem(read([path]))
    assert problem.kind in ("failed", "skipped") and problem.origin == str(path)


@pytest.mark.parametrize("name", ["minutes.pdf", "minutes.docx", "minutes.md"])
def test_a_file_of_no_bytes_is_skipped_as_empty_whatever_its_format(tmp_path: Path, name: str) -> None:
    """A failed download leaves an empty .pdf: passed over, not failed, so it blocks neither --prune nor --reset."""
    problem = only_problem(read([write(tmp_path / name, "")]))
    assert (problem.kind, problem.reason) == ("skipped", "empty file")


def test_docx_paragraphs_bullets_and_tables(tmp_path: Path) -> None:
    path = make_docx(
        tmp_path / "minutes.docx",
        heading="Children's Services Improvement Programme",
        paragraphs=["The Director submitted Document AH.", "Recommended - That the report be noted."],
        bullets=["Early Help assessments", "Front door"],
        table=[["Measure", "2020"], ["Referrals", "1,234"]],
    )
    item = only_item(read([path], cwd=tmp_path))
    assert item.source_id == "file:minutes.docx"
    assert item.item_title == "Children's Services Improvement Programme"
    # One line per table row, cells joined by " | ": a figure read on a line of its own, away
    # from its label ("Referrals" ... "1,234"), could not be found or quoted as the answer.
    assert item.text == (
        "Children's Services Improvement Programme\n\nThe Director submitted Document AH.\n\n"
        "Recommended - That the report be noted.\n\n· Early Help assessments\n\n· Front door\n\n"
        "Measure | 2020\n\nReferrals | 1,234"
    )


def _run(text: str) -> str:
    return f'<w:r><w:t xml:space="preserve">{text}</w:t></w:r>'


def test_docx_reads_content_controls_insertions_text_boxes_and_nested_tables(tmp_path: Path) -> None:
    text_box = (  # as Word writes it: a DrawingML box, and a VML copy of it for older readers
        "<w:r><mc:AlternateContent><mc:Choice Requires=\"wps\"><w:drawing><wps:txbx><w:txbxContent>"
        f"<w:p>{_run('Ofsted rated the service Good.')}</w:p>"
        "</w:txbxContent></wps:txbx></w:drawing></mc:Choice><mc:Fallback><w:pict><v:shape><v:textbox>"
        f"<w:txbxContent><w:p>{_run('Ofsted rated the service Good.')}</w:p></w:txbxContent>"
        "</v:textbox></v:shape></w:pict></mc:Fallback></mc:AlternateContent></w:r>"
    )
    path = make_docx_with_body(tmp_path / "m.docx", (
        f"<w:sdt><w:sdtPr><w:alias w:val=\"Attendance\"/></w:sdtPr><w:sdtContent><w:p>{_run('Attendance was 14 members.')}"
        "</w:p></w:sdtContent></w:sdt>"
        f"<w:p>{_run('Referrals rose to ')}<w:ins w:id=\"1\" w:author=\"Clerk\" w:date=\"2021-03-03T00:00:00Z\">"
        f"{_run('1,234 in the year')}</w:ins></w:p>"
        f"<w:p>{_run('Before the box.')}{text_box}</w:p>"
        f"<w:tbl><w:tr><w:tc><w:p>{_run('Minute 12')}</w:p></w:tc><w:tc><w:p/><w:tbl><w:tr><w:tc>"
        f"<w:p>{_run('56 children placed out of area')}</w:p></w:tc></w:tr></w:tbl><w:p/></w:tc></w:tr></w:tbl>"
        f"<w:tbl><w:sdt><w:sdtContent><w:tr><w:tc><w:p>{_run('Adoptions')}</w:p></w:tc>"
        f"<w:sdt><w:sdtContent><w:tc><w:p>{_run('27')}</w:p></w:tc></w:sdtContent></w:sdt></w:tr>"
        "</w:sdtContent></w:sdt></w:tbl>"
    ))
    assert only_item(read([path])).text == (
        "Minutes\n\nAttendance was 14 members.\n\nReferrals rose to 1,234 in the year\n\n"
        "Before the box.\n\nOfsted rated the service Good.\n\n"
        "Minute 12 | 56 children placed out of area\n\nAdoptions | 27"
    )


def test_docx_leaves_out_deleted_text(tmp_path: Path) -> None:
    path = make_docx_with_body(tmp_path / "m.docx", (
        f"<w:p>{_run('The budget was ')}<w:del w:id=\"1\" w:author=\"Clerk\" w:date=\"2021-03-03T00:00:00Z\">"
        "<w:r><w:delText>£2m</w:delText></w:r></w:del>"
        f"<w:ins w:id=\"2\" w:author=\"Clerk\" w:date=\"2021-03-03T00:00:00Z\">{_run('£3m')}</w:ins></w:p>"
        "<w:p><w:del w:id=\"3\" w:author=\"Clerk\" w:date=\"2021-03-03T00:00:00Z\">"
        "<w:r><w:t>A whole deleted sentence.</w:t></w:r></w:del></w:p>"
    ))
    text = only_item(read([path])).text
    assert text == "Minutes\n\nThe budget was £3m"


def test_docx_merged_cells_are_read_once(tmp_path: Path) -> None:
    merged = "<w:tcPr><w:vMerge w:val=\"restart\"/></w:tcPr>"
    continued = "<w:tcPr><w:vMerge/></w:tcPr><w:p/>"
    path = make_docx_with_body(tmp_path / "m.docx", (
        f"<w:tbl><w:tr><w:tc>{merged}<w:p>{_run('Minute 12')}</w:p></w:tc><w:tc><w:p>{_run('first')}</w:p></w:tc></w:tr>"
        f"<w:tr><w:tc>{continued}</w:tc><w:tc><w:p>{_run('second')}</w:p></w:tc></w:tr>"
        f"<w:tr><w:tc><w:tcPr><w:gridSpan w:val=\"2\"/></w:tcPr><w:p>{_run('spanning')}</w:p></w:tc></w:tr></w:tbl>"
    ))
    assert only_item(read([path])).text == "Minutes\n\nMinute 12 | first\n\nsecond\n\nspanning"


def test_docx_shows_automatic_list_numbers(tmp_path: Path) -> None:
    path = make_docx(tmp_path / "m.docx", heading="Minutes", paragraphs=[],
                     numbered=["Apologies", "Declarations of interest", "Fostering annual report"])
    assert only_item(read([path])).text == (
        "Minutes\n\n1. Apologies\n\n2. Declarations of interest\n\n3. Fostering annual report"
    )


def test_docx_numbers_nested_and_restarted_lists_as_word_does(tmp_path: Path) -> None:
    levels = "".join(
        f"<w:lvl w:ilvl=\"{level}\"><w:start w:val=\"{start}\"/><w:numFmt w:val=\"{fmt}\"/>"
        f"<w:lvlText w:val=\"{text}\"/></w:lvl>"
        for level, start, fmt, text in [(0, 12, "decimal", "%1."), (1, 1, "lowerLetter", "(%2)"),
                                        (2, 1, "lowerRoman", "%1.%3")]
    )
    numbering = (
        f"<w:abstractNum w:abstractNumId=\"90\">{levels}</w:abstractNum>"
        "<w:num w:numId=\"90\"><w:abstractNumId w:val=\"90\"/></w:num>"
        "<w:num w:numId=\"91\"><w:abstractNumId w:val=\"90\"/>"
        "<w:lvlOverride w:ilvl=\"0\"><w:startOverride w:val=\"1\"/></w:lvlOverride></w:num>"
    )

    def numbered(num_id: int, level: int, text: str) -> str:
        return (f"<w:p><w:pPr><w:numPr><w:ilvl w:val=\"{level}\"/><w:numId w:val=\"{num_id}\"/></w:numPr></w:pPr>"
                f"{_run(text)}</w:p>")

    path = make_docx_with_body(tmp_path / "m.docx", "".join([
        numbered(90, 0, "Fostering"), numbered(90, 1, "Recruitment"), numbered(90, 1, "Retention"),
        numbered(90, 2, "Allowances"), numbered(90, 0, "Adoption"), numbered(90, 1, "Timeliness"),
        numbered(91, 0, "A new list"),
    ]), numbering_xml=numbering)
    assert only_item(read([path])).text.split("\n\n")[1:] == [
        "12. Fostering", "(a) Recruitment", "(b) Retention", "12.i Allowances", "13. Adoption", "(a) Timeliness",
        "1. A new list",
    ]


def test_docx_core_title_wins(tmp_path: Path) -> None:
    path = make_docx(tmp_path / "m.docx", heading="Heading", paragraphs=["Text."], core_title="Fostering Panel")
    assert only_item(read([path])).item_title == "Fostering Panel"


@pytest.mark.parametrize("content", [b"PK\x03\x04 truncated zip", b"plain text pretending"])
def test_corrupt_docx_fails_cleanly(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken.docx"
    path.write_bytes(content)
    problem = only_problem(read([path]))
    assert problem.kind == "failed" and "Word" in problem.reason


def _compound_file(*stream_names: str) -> bytes:
    """An OLE compound file's header and one directory sector naming the given streams, as Word writes a .doc and
    Office a password-protected .docx (MS-OFFCRYPTO: the encrypted package is a stream of a compound file)."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16) + b"\x3e\x00\x03\x00\xfe\xff\x09\x00"
    entries = b"".join(name.encode("utf-16-le").ljust(64, b"\0") + (2 * len(name) + 2).to_bytes(2, "little")
                       + bytes(62) for name in ("Root Entry", *stream_names))
    return header.ljust(512, b"\0") + entries.ljust(512, b"\0")


def test_a_password_protected_docx_is_named_as_such_not_as_an_old_doc(tmp_path: Path) -> None:
    path = tmp_path / "minutes.docx"
    path.write_bytes(_compound_file("EncryptionInfo", "EncryptedPackage") + bytes(4096))
    problem = only_problem(read([path]))
    assert problem.kind == "failed" and "password" in problem.reason, problem
    assert "password" in problem.hint and ".doc file" not in problem.hint


def test_an_old_doc_named_docx_is_still_named_as_one(tmp_path: Path) -> None:
    path = tmp_path / "minutes.docx"
    path.write_bytes(_compound_file("WordDocument", "1Table") + bytes(4096))
    problem = only_problem(read([path]))
    assert problem.kind == "failed" and "another format named .docx" in problem.reason
    assert ".doc file" in problem.hint


# --- Robustness of the whole walk ----------------------------------------------------------------


def test_a_reader_crash_becomes_a_problem_and_the_walk_goes_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import assistant.ingest.readers as readers

    def exploding(source):
        yield MinuteItem(source_id="partial", text="first")
        raise RuntimeError("parser bug")

    monkeypatch.setitem(readers._READERS, ".htm", exploding)
    write(tmp_path / "a.htm", "<p>x</p>")
    write(tmp_path / "b.txt", "Fine.")
    results = read([tmp_path])
    assert [type(r).__name__ for r in results] == ["MinuteItem", "InputProblem", "MinuteItem"]
    assert "RuntimeError" in results[1].reason


def test_unreadable_file_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "locked.txt", "Minutes.")
    real_read_bytes = Path.read_bytes

    def denied(self: Path) -> bytes:
        if self == path:  # chmod would not stop root, who runs some CI jobs
            raise PermissionError(13, "Permission denied", str(self))
        return real_read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", denied)
    problem = only_problem(read([path]))
    assert problem.kind == "failed" and "Permission denied" in problem.reason


def test_a_broken_link_in_a_folder_fails_alone(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "A.")
    (tmp_path / "b.txt").symlink_to(tmp_path / "gone.txt")
    write(tmp_path / "c.txt", "C.")
    results = read([tmp_path])
    assert [type(r).__name__ for r in results] == ["MinuteItem", "InputProblem", "MinuteItem"]
    assert results[1].kind == "failed" and results[1].origin == str(tmp_path / "b.txt")
    assert "broken link" in results[1].reason and str(tmp_path / "gone.txt") in results[1].reason


def test_files_ingest_does_not_read_beside_minutes_are_named_and_hidden_ones_are_not(tmp_path: Path) -> None:
    write(tmp_path / "minutes.txt", "Minutes.")
    for name in ["agenda-pack.zip", "export.json", "minutes.docm", "figures.xlsx", "README", ".notes.zip",
                 ".drafts/draft.zip", "page_files/style.css", "page_files/logo.png"]:
        write(tmp_path / name, "x")
    results = read([tmp_path])
    assert len(items_of(results)) == 1
    named = {Path(p.origin).name: p for p in problems_of(results)}
    assert sorted(named) == ["README", "agenda-pack.zip", "export.json", "figures.xlsx", "minutes.docm"]
    assert named["agenda-pack.zip"].kind == "skipped"
    assert named["agenda-pack.zip"].reason == "not a format ingest reads (.zip)"
    assert named["README"].reason == "not a format ingest reads (no extension)"


def test_a_dangling_link_named_on_its_own_says_where_it_points(tmp_path: Path) -> None:
    (tmp_path / "minutes.txt").symlink_to(tmp_path / "moved" / "minutes.txt")
    problem = only_problem(read([tmp_path / "minutes.txt"]))
    assert problem.kind == "failed" and problem.reason.startswith("is a broken link: it points to ")
    assert str(tmp_path / "moved" / "minutes.txt") in problem.reason


def test_a_link_in_a_loop_of_links_is_reported_and_the_walk_goes_on(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "A.")
    (tmp_path / "b.txt").symlink_to(tmp_path / "c.txt")
    (tmp_path / "c.txt").symlink_to(tmp_path / "b.txt")
    results = read([tmp_path])
    assert [type(r).__name__ for r in results] == ["MinuteItem", "InputProblem", "InputProblem"]
    assert all("loop" in problem.reason for problem in problems_of(results))


def test_a_link_to_a_file_of_the_folder_is_passed_over_and_the_file_keeps_its_own_name(tmp_path: Path) -> None:
    """A 'latest.pdf' shortcut to this month's minutes: adding or removing it changes no item's identity."""
    write(tmp_path / "minutes" / "meetings" / "march.txt", "Fostering.")
    (tmp_path / "minutes" / "latest.txt").symlink_to(tmp_path / "minutes" / "meetings" / "march.txt")  # sorted first
    results = read([tmp_path / "minutes"])
    assert [i.source_id for i in items_of(results)] == ["file:meetings/march.txt"]
    assert problems_of(results) == []


# --- Symlinked folders, index folders, names that are not UTF-8 ---------------------------------


def test_a_symlinked_sub_folder_is_read_under_the_link_s_name(tmp_path: Path) -> None:
    """An officer moves 2022/ to an archive disk and leaves a link: its items keep their identities."""
    write(tmp_path / "archive" / "2022" / "adoption.txt", "Adoption.")
    write(tmp_path / "minutes" / "fostering.txt", "Fostering.")
    (tmp_path / "minutes" / "2022").symlink_to(tmp_path / "archive" / "2022")
    results = read([tmp_path / "minutes"])
    assert [i.source_id for i in items_of(results)] == ["file:2022/adoption.txt", "file:fostering.txt"]
    assert problems_of(results) == []


def test_a_symlinked_folder_that_loops_or_leads_inside_is_reported_and_its_files_read_once(tmp_path: Path) -> None:
    minutes = tmp_path / "minutes"
    write(minutes / "2022" / "adoption.txt", "Adoption.")
    (minutes / "all").symlink_to(minutes)  # a loop
    (minutes / "also-2022").symlink_to(minutes / "2022")  # sorted first, but the real folder names the file
    results = read([minutes])
    assert [i.source_id for i in items_of(results)] == ["file:2022/adoption.txt"]
    loop, inside = problems_of(results)
    assert (loop.origin, loop.kind) == (str(minutes / "all"), "skipped") and "loop" in loop.reason
    assert (inside.origin, inside.kind) == (str(minutes / "also-2022"), "skipped") and "read already" in inside.reason


def test_a_dangling_symlinked_folder_fails_saying_where_it_points(tmp_path: Path) -> None:
    """A disk not connected: failed, not passed over, so that --prune keeps what was indexed from it."""
    write(tmp_path / "minutes" / "fostering.txt", "Fostering.")
    (tmp_path / "minutes" / "2022").symlink_to(tmp_path / "archive" / "2022")
    results = read([tmp_path / "minutes"])
    problem = only_problem(problems_of(results))
    assert problem.kind == "failed" and "broken link" in problem.reason
    assert str(tmp_path / "archive" / "2022") in problem.reason and len(items_of(results)) == 1


def test_an_index_folder_inside_the_minutes_is_left_out_with_a_note(tmp_path: Path) -> None:
    minutes = tmp_path / "minutes"
    write(minutes / "fostering.txt", "Fostering.")
    write(minutes / "index" / "bm25" / "entries.jsonl", jsonl_line(id="chunk-1", text="An indexed chunk.") + "\n")
    (minutes / "linked-index").symlink_to(minutes / "index")
    notes: list[str] = []
    results = list(read_inputs([minutes], CAP, index_folders=[minutes / "index"], notes=notes))
    assert [i.source_id for i in items_of(results)] == ["file:fostering.txt"] and problems_of(results) == []
    not_read = ", whose files are the index's own, so minutes kept in it are not read (move them out of it into a " \
               "folder of their own)"
    assert notes == [f"left out {minutes / 'index'}: it is the index folder{not_read}",
                     f"left out {minutes / 'linked-index'}: it is a link into the index folder {minutes / 'index'}"
                     f"{not_read}"]
    notes.clear()
    # Named on purpose: a failure, saying where the index folder is and what to do.
    named = list(read_inputs([minutes / "index" / "bm25"], CAP, index_folders=[minutes / "index"], notes=notes))
    problem = only_problem(named)
    assert notes == [] and problem.kind == "failed" and problem.origin == str(minutes / "index" / "bm25")
    assert problem.reason.startswith(f"is inside the index folder {minutes / 'index'}, whose files are the index's own")
    assert problem.hint.startswith(f"Move the minutes out of {minutes / 'index'}")
    assert len(items_of(read([minutes]))) == 2, "without index_folders, the index is read as minutes, as before"


NOT_UTF8 = os.fsdecode(b"r\xe9union")  # a Latin-1 name, as os.walk hands it on: "r\udce9union"


def test_a_file_and_a_folder_named_in_bytes_that_are_not_utf8_are_read_under_readable_names(tmp_path: Path) -> None:
    write(tmp_path / "good.txt", "Good.")
    write(tmp_path / f"{NOT_UTF8}.txt", "Latin-1 name.")
    write(tmp_path / NOT_UTF8 / "minutes.txt", "In a Latin-1 folder.")
    results = read([tmp_path], cwd=tmp_path)
    assert problems_of(results) == []
    good, in_folder, named = items_of(results)
    assert good.source_id == "file:good.txt"
    assert (named.source_id, named.origin) == ("file:r\ufffdunion.txt", f"{tmp_path}/r\ufffdunion.txt")
    assert in_folder.source_id == "file:r\ufffdunion/minutes.txt"
    for item in (named, in_folder):
        assert item.item_hash  # hashed as the manifest does, which needs every text to be UTF-8
        assert item.origin.encode("utf-8") and item.text
    assert items_of(read([tmp_path / f"{NOT_UTF8}.txt"], cwd=tmp_path))[0].source_id == "file:r\ufffdunion.txt"


def test_two_names_that_read_the_same_once_made_readable_are_refused_the_second(tmp_path: Path) -> None:
    write(tmp_path / os.fsdecode(b"r\xe9union.txt"), "One.")
    write(tmp_path / os.fsdecode(b"r\xe8union.txt"), "Two.")
    results = read([tmp_path])
    assert [type(r).__name__ for r in results] == ["MinuteItem", "InputProblem"]
    problem = results[1]
    assert problem.kind == "failed" and problem.origin == f"{tmp_path}/r\ufffdunion.txt"
    assert f"reads the same as {tmp_path}/r\ufffdunion.txt" in problem.reason and "Rename" in problem.hint


def test_escapes_of_lone_surrogates_in_json_and_yaml_become_replacement_characters(tmp_path: Path) -> None:
    write(tmp_path / "a.jsonl", '{"id": "a", "title": "caf\\udce9", "text": "Minutes \\ud800 of it."}\n')
    write(tmp_path / "b.md", '---\ntitle: "caf\\udce9"\n---\nMinutes.\n')
    line, front_matter = items_of(read([tmp_path]))
    assert (line.item_title, line.text) == ("caf\ufffd", "Minutes ? of it.")  # as `readable` has it
    assert front_matter.item_title == "caf\ufffd"
    assert line.item_hash and front_matter.item_hash  # these raised UnicodeEncodeError


def test_a_pdf_item_whose_text_opens_with_a_figure_keeps_its_heading(tmp_path: Path) -> None:
    """'2. Adoption Update' over '71 children were placed ...': the heading had been joined to the figure's line as a
    wrapped sentence, so the meeting was read as one item, its later items' headings inside its text."""
    path = make_pdf(tmp_path / "minutes.pdf", [
        "Children and Young People Scrutiny Committee", "Minutes of the meeting held on Wednesday 8 March 2023",
        "1. Apologies for Absence", "Apologies were received from Councillor Dee.",
        "2. Adoption Update", "71 children were placed for adoption in the year.", "The Committee noted the report.",
        "3. Fostering Recruitment", "40 foster carers were approved during 2022/23.", "RESOLVED that it be noted.",
    ])
    items = items_of(read([path]))
    assert [item.item_title for item in items][-3:] == [
        "1. Apologies for Absence", "2. Adoption Update", "3. Fostering Recruitment"]
    assert items[-2].text == ("2. Adoption Update\n71 children were placed for adoption in the year.\n"
                              "The Committee noted the report.")
