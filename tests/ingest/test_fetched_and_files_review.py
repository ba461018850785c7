"""An index holding both fetched minutes and files, as an officer keeps one (a review of `assistant fetch` in use):
--prune leaves fetched items alone and --reset says how to fetch them back; what a stopped fetch left is finished by
fetching again, not by `assistant ingest`; a council given before is kept when only a committee is given under a new
identity; minutes inside the index folder are refused when named; `stats` always says that a writer is at work; and
names with control characters, or blank ones, are refused."""

from __future__ import annotations

import json
import shlex
import shutil

import pytest

from assistant.errors import AssistantError, ConfigError
from assistant.index.manifest import Manifest, ManifestRow
from assistant.index.stats import index_stats
from assistant.ingest.run import ingest
from cli_helpers import cli_env, manifest_rows, run_cli
from moderngov_site import OWN_PUBLIC_ITEMS, Canned
from test_ingest_lock import held_by_another_process
from test_moderngov import COUNCIL, fetch, ids_of, indexed
from test_moderngov_more import site  # noqa: F401  (a fixture)


def _files(tmp_path, *names: str):
    folder = tmp_path / "hand"
    folder.mkdir(exist_ok=True)
    for name in names:
        (folder / name).write_text(f"Members discussed the {name} report on foster carers in detail.\n",
                                   encoding="utf-8")
    return folder


def _reset_stopped_part_way(settings, folder, monkeypatch) -> None:
    """`ingest --reset` of the folder, stopped by Ctrl-C once the index was emptied, before anything went back in."""
    import assistant.ingest.run as run

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(run, "_write_batch", stopped)
    with pytest.raises(KeyboardInterrupt):
        ingest([folder], settings, reset=True)
    monkeypatch.undo()


# --- Finding 1: --prune and --reset with fetched minutes in the index ---------------------------------------------


def test_prune_keeps_fetched_items_and_says_so(quick, site, tmp_path):
    fetch(quick, site)
    folder = _files(tmp_path, "notes.txt", "budget.txt")
    ingest([folder], quick, council=COUNCIL)
    (folder / "notes.txt").unlink()
    before = ingest([folder], quick)
    gone = next(note for note in before.notes if "no longer exist" in note)
    assert "--prune" in gone and "leaves minutes fetched with `assistant fetch` alone" in gone, gone

    pruned = ingest([folder], quick, prune=True)
    assert pruned.removed == 1, pruned.report()
    assert set(indexed(quick)) == ids_of(site, *OWN_PUBLIC_ITEMS) | {"file:budget.txt"}
    assert (f"4 items fetched from {site.base_url} are kept: --prune removes only items of files (`assistant fetch` "
            "keeps fetched minutes current, and withdraws what the site no longer lists)") in pruned.notes


def test_reset_says_how_many_fetched_items_went_and_the_fetch_that_brings_them_back(quick, site, tmp_path):
    fetch(quick, site)
    folder = _files(tmp_path, "budget.txt")
    ingest([folder], quick, council=COUNCIL)
    rebuilt = ingest([folder], quick, reset=True)
    assert set(indexed(quick)) == {"file:budget.txt"}, "a reset empties the whole index, by design"
    note = next(note for note in rebuilt.notes if note.startswith("--reset removed"))
    assert note.startswith(f"--reset removed 4 items fetched from {site.base_url}, as it empties the whole index: "
                           "to get them back, run `assistant fetch "), note
    command = shlex.split(note.partition("run `")[2].rstrip("`"))
    assert command == ["assistant", "fetch", site.base_url, "--council", COUNCIL, "--committee", "101",
                       "--committee", "102", "--since", "2024-03-05", "--index", str(quick.data_dir)]
    # The command it gives brings every one of them back.
    env = cli_env(quick.data_dir, ASSISTANT_FETCH_RATE="0", ASSISTANT_FETCH_BACKOFF="0",
                  ASSISTANT_REFETCH_WEEKS="5000")
    result = run_cli(*command[1:], "--until", "2024-12-31", "--no-progress", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert set(indexed(quick)) == ids_of(site, *OWN_PUBLIC_ITEMS) | {"file:budget.txt"}


def test_a_reset_stopped_part_way_and_run_again_still_says_how_to_fetch_the_removed_minutes_back(quick, site, tmp_path,
                                                                                                monkeypatch):
    """The note was made from the manifest as the reset began: run again after Ctrl-C, the reset found no fetched
    items left to name, and the council's minutes were gone from the index without a word."""
    fetch(quick, site)
    folder = _files(tmp_path, "budget.txt")
    ingest([folder], quick, council=COUNCIL)

    _reset_stopped_part_way(quick, folder, monkeypatch)
    again = ingest([folder], quick, reset=True)
    assert any(note.startswith(f"--reset removed 4 items fetched from {site.base_url}") for note in again.notes), \
        again.notes
    assert not any(note.startswith("--reset removed") for note in ingest([folder], quick).notes)  # said once


# --- Finding 2: what a stopped fetch left is finished by fetching again ------------------------------------------


def _left_pending(settings, source_id: str) -> None:
    """One item as a fetch killed mid-batch leaves it: written pending, never finished."""
    manifest = Manifest(settings.manifest_path)
    try:
        row = manifest.rows()[source_id]
        manifest.write([ManifestRow(row.source_id, "unfinished", "pending", row.chunk_ids, row.council, row.committee,
                                    row.meeting_date, row.item_title, row.origin)])
    finally:
        manifest.close()


def test_after_a_stopped_fetch_stats_and_ingest_say_to_fetch_again(quick, site, tmp_path):
    fetch(quick, site)
    _left_pending(quick, f"{site.base_url}/mgAi.aspx?ID=5011")
    assert index_stats(quick).notes == (f"1 item fetched from {site.base_url} was interrupted mid-fetch: run the same "
                                        f"`assistant fetch` of {site.base_url} again",)
    summary = ingest([_files(tmp_path, "budget.txt")], quick, council=COUNCIL)
    assert (f"1 item of an interrupted fetch from {site.base_url} is not finished: run the same `assistant fetch` of "
            f"{site.base_url} again, which finishes it") in summary.notes, summary.notes
    assert not any("interrupted earlier ingest" in note for note in summary.notes), summary.notes
    fetch(quick, site)
    assert index_stats(quick).notes == ()


def test_a_file_holding_a_fetched_items_identity_is_refused_and_the_fetched_item_kept(quick, site, tmp_path):
    """A saved item page, or an export's line, under a fetched item's page address took the item over: the next
    ingest put the file's old text in place of the site's corrected minutes, fetch then found the meeting not modified,
    and --prune, with the file gone, dropped the item."""
    fetch(quick, site)
    item = f"{site.base_url}/mgAi.aspx?ID=5002"
    fetched = manifest_rows(quick)[item]
    folder = tmp_path / "hand"
    folder.mkdir()
    (folder / "export.jsonl").write_text(json.dumps({
        "url": item, "council": COUNCIL, "title": "Children's Social Care Performance", "date": "2024-03-05",
        "text": "Members noted that 41 foster carers were recruited, as first minuted."}) + "\n", encoding="utf-8")
    (folder / "budget.txt").write_text("Members discussed the budget report on foster carers.\n", encoding="utf-8")

    summary = ingest([folder], quick, council=COUNCIL)
    (refused,) = summary.failed
    assert refused.origin.endswith("export.jsonl:1") and f"fetched from {site.base_url}" in refused.reason, refused
    assert "assistant fetch" in refused.hint, refused.hint
    assert manifest_rows(quick)[item] == fetched
    pruned = ingest([folder], quick, prune=True)
    assert pruned.removed == 0 and manifest_rows(quick)[item] == fetched, pruned.report()


def test_a_file_marking_a_fetched_item_restricted_still_takes_it_out(quick, site, tmp_path):
    fetch(quick, site)
    item = f"{site.base_url}/mgAi.aspx?ID=5002"
    folder = tmp_path / "hand"
    folder.mkdir()
    (folder / "export.jsonl").write_text(json.dumps({
        "url": item, "council": COUNCIL, "title": "Children's Social Care Performance", "date": "2024-03-05",
        "text": "Members noted the performance report.", "restricted": True}) + "\n", encoding="utf-8")
    summary = ingest([folder], quick)
    assert not summary.failed and item not in manifest_rows(quick), summary.report()


# --- Finding 3: a value given under a new identity replaces only that value ------------------------------------


@pytest.mark.parametrize("given_again", ["committee", "council"])
def test_a_file_under_a_new_identity_keeps_the_value_not_given_again(fake_settings, tmp_path, given_again):
    folder = _files(tmp_path, "cpp-minutes.txt")
    ingest([folder], fake_settings, council="Manchester City Council", committee="Wrong Committee", cwd=tmp_path)
    again = {"committee": "Corporate Parenting Panel"} if given_again == "committee" else {"council": "Salford"}
    ingest([folder / "cpp-minutes.txt"], fake_settings, cwd=tmp_path, **again)  # named on its own: a new identity
    rows = manifest_rows(fake_settings)
    assert list(rows) == ["file:hand/cpp-minutes.txt"], rows
    row = rows["file:hand/cpp-minutes.txt"]
    expected = (("Manchester City Council", "Corporate Parenting Panel") if given_again == "committee"
                else ("Salford", "Wrong Committee"))
    assert (row.council, row.committee) == expected
    ingest([folder], fake_settings, cwd=tmp_path)  # through its folder again, no flags: still remembered
    (row,) = manifest_rows(fake_settings).values()
    assert (row.council, row.committee) == expected


# --- Finding 5: minutes inside the index folder --------------------------------------------------------------


def test_minutes_named_inside_the_index_folder_fail_saying_to_move_them(fake_settings, tmp_path):
    inside = fake_settings.data_dir / "my-pdfs"
    inside.mkdir(parents=True)
    (inside / "minutes.txt").write_text("Members discussed foster carers.\n", encoding="utf-8")
    for named in (inside, inside / "minutes.txt"):
        summary = ingest([named], fake_settings)
        (failed,) = summary.failed
        assert failed.reason.startswith(f"is inside the index folder {fake_settings.data_dir}, whose files are the "
                                        "index's own"), failed.reason
        assert "own data folder" not in summary.report()
        assert failed.hint.startswith(f"Move the minutes out of {fake_settings.data_dir} into a folder of their own")
    result = run_cli("ingest", str(inside), "--no-progress", env=cli_env(fake_settings.data_dir))
    assert result.returncode == 1 and "is inside the index folder" in result.stdout, result.stdout + result.stderr


# --- Finding 6: stats says a writer is at work whenever one is -----------------------------------------------


def test_stats_says_first_that_a_writer_is_at_work_even_when_nothing_looks_wrong(fake_settings, tmp_path):
    ingest([_files(tmp_path, "budget.txt")], fake_settings)
    assert index_stats(fake_settings).notes == ()
    with held_by_another_process(fake_settings.data_dir):
        assert index_stats(fake_settings).notes == (
            "an ingest (or fetch) is writing to this index now: wait for it to finish (these counts are of what it "
            "has finished so far)",)
        shown = run_cli("stats", env=cli_env(fake_settings.data_dir)).stdout.splitlines()
    assert shown[0].startswith("an ingest (or fetch) is writing to this index now") and shown[1] == \
        "1 item, 1 chunk (embedding model: fake:hashing)", shown


# --- Finding 7: names with control characters, and blank ones --------------------------------------------------


@pytest.mark.parametrize("name, said", [("Bad\nName", "a line break"), ("Tab\tName", "a tab"),
                                        ("Red\x1b[31mName", "a terminal escape"),
                                        ("Early\u00adHelp Panel", "a soft hyphen"),
                                        ("\ufeffSefton Council", "a byte order mark"),
                                        ("Cor\u200bporate Parenting", "a zero-width space")])
def test_council_and_committee_names_with_control_characters_are_refused(quick, site, tmp_path, name, said):
    folder = _files(tmp_path, "budget.txt")
    for flag, given in (("--council", {"council": name}), ("--committee", {"committee": name})):
        with pytest.raises(ConfigError) as refused:
            ingest([folder], quick, **given)
        assert refused.value.message.startswith(f"{flag} {ascii(name)} holds {said}"), refused.value.message
        assert "one line" in refused.value.hint
        # An invisible character would be pasted again with the name: the hint says so.
        assert ("invisible" in refused.value.hint) == (ord(max(name)) > 0x7f), refused.value.hint
    with pytest.raises(ConfigError) as refused:
        fetch(quick, site, council=name)
    assert said in refused.value.message
    with pytest.raises(ConfigError) as refused:
        fetch(quick, site, committees=(name,))
    assert refused.value.message.startswith(f"--committee {ascii(name)} holds {said}")
    assert not quick.manifest_path.exists() and site.seen("GetCommittees") == []


def test_a_blank_name_is_said_to_be_empty(quick, site, tmp_path):
    with pytest.raises(ConfigError) as refused:
        fetch(quick, site, council="   ")
    assert refused.value.message == "--council is empty: it names no council."
    with pytest.raises(ConfigError) as refused:
        ingest([_files(tmp_path, "budget.txt")], quick, committee=" ")
    assert refused.value.message == "--committee is empty: it names no committee."
    result = run_cli("fetch", site.base_url, "--council", "  ", env=cli_env(quick.data_dir))
    assert result.returncode == 2 and "--council is empty" in result.stderr, result.stderr
    assert "not in the directory" not in result.stderr


def test_the_hint_for_a_bad_committee_name_gives_a_committee_as_its_example(quick, tmp_path):
    """The hint for a blank or pasted --committee read `--committee "Example Borough Council"`: a council's name."""
    for name in (" ", "Children's\tServices"):
        with pytest.raises(ConfigError) as refused:
            ingest([_files(tmp_path, "budget.txt")], quick, committee=name)
        assert "--committee \"Children's Services Scrutiny Committee\"" in refused.value.hint, refused.value.hint
        assert "Council" not in refused.value.hint
        with pytest.raises(ConfigError) as refused:
            ingest([_files(tmp_path, "budget.txt")], quick, council=name)
        assert "--council \"Example Borough Council\"" in refused.value.hint, refused.value.hint


# --- Finding 8 and section 9: a stalling site, a committee list that is not XML, a day that does not exist -------


def test_each_try_again_at_a_stalling_site_is_said_as_it_starts(quick, site, capfd):
    """Four tries of a minute each had passed in silence."""
    stalled = Canned(200, b"<committees/>", {"Content-Type": "text/xml"}, delay=2.0)
    site.queue("GetCommittees", "", stalled, stalled)
    summary = fetch(quick.with_(fetch_timeout=0.5, fetch_retries=2), site)
    assert summary.ok and summary.items_new == 4  # the third try was answered
    said = capfd.readouterr().err.splitlines()
    assert said == [f"waiting for {site.base_url} GetCommittees (no whole reply within 0.5 s): try {n} of 3, up to "
                    "0.5 s each" for n in (2, 3)], said


def test_a_committee_list_that_is_not_xml_says_no_meeting_was_asked_for(quick, site):
    site.always[("getcommittees", "")] = Canned(200, b"<committees><committee><committeeid>1</committees>",
                                                {"Content-Type": "text/xml"})
    [failure] = fetch(quick, site).failed
    assert "malformed XML" in failure.reason and "No meeting was asked for" in failure.hint
    assert "other meetings were fetched" not in failure.hint


@pytest.mark.parametrize("day, said", [("2026-02-30", "--since 2026-02-30 is not a date: February 2026 has 28 days."),
                                       ("2026-13-01", "--since 2026-13-01 is not a date: there is no month 13.")])
def test_a_day_that_does_not_exist_is_not_called_the_wrong_format(tmp_path, day, said):
    result = run_cli("fetch", "barnsley", "--since", day, env=cli_env(tmp_path / "index"))
    assert result.returncode == 2 and f"error: {said}" in result.stderr, result.stderr
    assert "must be a date" not in result.stderr


@pytest.mark.parametrize("given, since, until", [
    ("2024-04-01", "2024-04-01", "2024-04-01"), ("01/04/2024", "2024-04-01", "2024-04-01"),
    ("1 April 2024", "2024-04-01", "2024-04-01"), ("2024-04", "2024-04-01", "2024-04-30"),
    ("2024", "2024-01-01", "2024-12-31")])
def test_fetch_takes_a_date_in_every_form_ask_takes(given, since, until):
    """`fetch --since` took YYYY-MM-DD alone, where `ask --since` takes a UK date, a month or a year too."""
    from assistant.present.cli import _date_flag

    assert (_date_flag(given, "--since").isoformat(), _date_flag(given, "--until").isoformat()) == (since, until)
    with pytest.raises(AssistantError, match="--since must be a date, not 'spring'") as refused:
        _date_flag("spring", "--since")
    assert "01/04/2024" in refused.value.hint
    with pytest.raises(AssistantError, match=r"--since 31/04/2024 is not a date: April 2024 has 30 days"):  # says why
        _date_flag("31/04/2024", "--since")


def test_a_fetch_finishing_what_a_stopped_one_left_does_not_tell_itself_to_fetch_again(quick, site, monkeypatch):
    from assistant.ingest.moderngov import fetch as fetch_module

    monkeypatch.setattr(fetch_module, "MEETINGS_PER_BATCH", 1)  # the unfinished item's meeting comes in a later batch
    fetch(quick, site)
    _left_pending(quick, f"{site.base_url}/mgAi.aspx?ID=5011")
    summary = fetch(quick, site)
    assert summary.ok and index_stats(quick).notes == ()
    assert not any("interrupted" in note for note in summary.notes), summary.notes


def test_the_advice_for_ask_after_a_stopped_fetch_is_to_fetch_again(quick, site, tmp_path):
    """For `ask` and the app, whose message about a keyword index out of date had said `assistant ingest`."""
    from assistant.index.stats import finish_stopped_run

    fetch(quick, site)
    assert "`assistant fetch` (of " + site.base_url in finish_stopped_run(manifest_rows(quick).values())
    _left_pending(quick, f"{site.base_url}/mgAi.aspx?ID=5011")
    assert finish_stopped_run(manifest_rows(quick).values()).startswith(
        f"Run the same `assistant fetch` of {site.base_url} again")
    files_only = quick.with_(data_dir=tmp_path / "files")
    ingest([_files(tmp_path, "budget.txt")], files_only)
    assert finish_stopped_run(manifest_rows(files_only).values()).startswith("Run `assistant ingest`")


def test_ask_after_a_stopped_fetch_says_to_fetch_again(quick, site):
    """`ask` (and the app) open the index and find its keyword index behind the manifest: the hint is the same fetch
    again, not `assistant ingest`, which with no PATH reads the working directory's corpus/."""
    from assistant.answer.service import Assistant
    from assistant.errors import IndexStaleError

    fetch(quick, site)
    _left_pending(quick, f"{site.base_url}/mgAi.aspx?ID=5011")
    with pytest.raises(IndexStaleError) as stale:
        Assistant(quick).close()
    assert stale.value.hint.startswith(f"Run the same `assistant fetch` of {site.base_url} again")


def test_ingest_with_no_path_does_not_put_the_demo_minutes_into_an_index_of_other_minutes(quick, site, tmp_path):
    """From the project folder, `assistant ingest --index barnsley` (as a stopped fetch's advice had it) read the
    five demo councils' minutes into a council's index of fetched minutes."""
    from assistant.errors import AssistantError
    from assistant.ingest.run import DEFAULT_CORPUS
    from conftest import CORPUS

    project = tmp_path / "project"
    shutil.copytree(CORPUS, project / DEFAULT_CORPUS)
    fetch(quick, site)
    before = manifest_rows(quick)
    with pytest.raises(AssistantError, match="demo minutes") as refused:
        ingest([DEFAULT_CORPUS], quick, no_path_given=True, cwd=project)
    assert site.base_url in refused.value.message and "`assistant fetch`" in refused.value.hint
    assert "only minutes fetched from" in refused.value.message
    assert manifest_rows(quick) == before
    assert ingest([DEFAULT_CORPUS], quick, cwd=project).new == 5  # named, it is read
    demo = quick.with_(data_dir=tmp_path / "demo")
    ingest([DEFAULT_CORPUS], demo, no_path_given=True, cwd=project)
    # The demo's own index, again from the project, and from another folder holding a corpus/ (the origins the index
    # recorded are relative to where it ran, which says nothing here: an index of files is never refused).
    assert ingest([DEFAULT_CORPUS], demo, no_path_given=True, cwd=project).unchanged == 5
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(CORPUS, elsewhere / DEFAULT_CORPUS)
    assert not ingest([DEFAULT_CORPUS], demo, no_path_given=True, cwd=elsewhere).failed


def test_a_fetch_into_an_index_of_another_embedding_model_stops_before_asking_the_site(quick, site, tmp_path):
    """It had sent 25 requests (at a polite one a second, on a real site) before the index refused it."""
    from assistant.errors import IndexMismatchError

    ingest([_files(tmp_path, "budget.txt")], quick)
    other_model = quick.with_(embedding_model="all-MiniLM-L6-v2")
    with pytest.raises(IndexMismatchError, match="was built with"):
        fetch(other_model, site)
    assert site.requests == []
    assert not (quick.data_dir / "moderngov").exists() or not any((quick.data_dir / "moderngov").iterdir())


def test_a_fetch_of_one_site_after_a_reset_stopped_part_way_keeps_the_note_on_the_other_sites_minutes(
        fake_settings, tmp_path, monkeypatch):
    """Two sites fetched, a reset stopped part way, then one site fetched again: its first batch dropped the notes of
    both, and the other site's minutes were gone from the index without a word."""
    from assistant.ingest.run import ingest_items
    from assistant.records import MinuteItem

    def fetched(site: str, number: int) -> MinuteItem:
        url = f"{site}/mgAi.aspx?ID={number}"
        return MinuteItem(source_id=url, text=f"The panel of {site} approved {number} foster carers in March.",
                          council="Northbrook Borough Council", meeting_date="2025-03-01", origin=url)

    first, second = "https://first.moderngov.example", "https://second.moderngov.example"
    ingest_items([fetched(first, 1), fetched(second, 2)], fake_settings, progress=False)
    folder = _files(tmp_path, "budget.txt")
    ingest([folder], fake_settings)

    _reset_stopped_part_way(fake_settings, folder, monkeypatch)
    ingest_items([fetched(first, 1)], fake_settings, progress=False)  # `assistant fetch` of the first site
    notes = ingest([folder], fake_settings).notes
    assert any(note.startswith(f"--reset removed 1 item fetched from {second}") for note in notes), notes
    assert not any(f"fetched from {first}," in note for note in notes), notes
    assert not any(note.startswith("--reset removed") for note in ingest([folder], fake_settings).notes)  # said once


def test_a_fetch_after_a_reset_cut_short_leaves_stats_saying_so_until_the_files_are_ingested(quick, site, tmp_path,
                                                                                          monkeypatch):
    """A fetch after a reset stopped part way cleared the reset's mark: `stats` stopped saying that the index holds
    only part of the minutes, though the files the reset removed were still out of it. Questions are still answered
    from what is in the index meanwhile."""
    from assistant.answer.service import Assistant

    folder = _files(tmp_path, "budget.txt")
    ingest([folder], quick, council=COUNCIL)

    _reset_stopped_part_way(quick, folder, monkeypatch)
    fetch(quick, site)
    assert set(indexed(quick)) == ids_of(site, *OWN_PUBLIC_ITEMS), "the file's item is still out of the index"
    notes = index_stats(quick).notes
    assert any("was cut short, so it holds only part of the minutes" in note for note in notes), notes
    assistant = Assistant(quick)
    try:
        answer = assistant.ask("How many foster carers were recruited?")
    finally:
        assistant.close()
    assert answer.retrieved, answer  # searched the fetched minutes, not refused for the reset

    ingest([folder], quick)
    assert not any("cut short" in note for note in index_stats(quick).notes)
    assert "file:budget.txt" in indexed(quick)
