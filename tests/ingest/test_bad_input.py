"""Bad input gets a clear message per file and loses nothing."""

import json
import subprocess
import sys
import textwrap

import pytest

from assistant.ingest.run import ingest

from cli_helpers import cli_env, run_cli
from corpus_factory import write_markdown_corpus


@pytest.fixture
def messy_folder(tmp_path):
    folder = tmp_path / "messy"
    write_markdown_corpus(folder, 2)
    (folder / "empty.md").write_text("")
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 40)
    (folder / "windows.txt").write_bytes(
        "Minutes:\nThe Committee heard that \u2018step-down\u2019 cost \u00a3120,000 \u2013 a rise.\n".encode("cp1252"))
    (folder / "latin1.txt").write_bytes("Minutes:\nThe caf\u00e9 r\u00e9sum\u00e9 for care leavers was welcomed.\n".encode("latin-1"))
    (folder / "broken.html").write_text("<html><body><div class='mgMainTable'><p>Minutes:<p>The report <b>was noted"
                                        "<table><tr><td>unclosed", encoding="utf-8")
    lines = [json.dumps({"url": "https://example.gov.uk/mgAi.aspx?ID=1", "council": "Dale Council", "title": "One",
                         "date": "2019", "text": "Minutes:\nThe report on adoption was noted."}),
             '{"url": "https://example.gov.uk/mgAi.aspx?ID=2", "council": ',
             json.dumps({"url": "https://example.gov.uk/mgAi.aspx?ID=3", "council": "Dale Council", "title": "Three",
                         "date": "", "text": "Minutes:\nThe fostering report was welcomed."})]
    (folder / "items.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "baddate.md").write_text(textwrap.dedent("""\
        ---
        id: bad-date
        council: Dale Council
        meeting_date: next Tuesday
        ---
        Minutes:
        Text that would otherwise be fine.
        """), encoding="utf-8")
    return folder


def test_each_problem_is_reported_and_every_good_file_is_still_ingested(fake_settings, messy_folder, tmp_path):
    summary = ingest([messy_folder, tmp_path / "no-such-folder"], fake_settings)
    origins = {p.origin.rsplit("/", 1)[-1]: p for p in summary.problems}
    assert origins["empty.md"].kind == "skipped"
    assert origins["binary.txt"].kind == "failed"
    assert origins["items.jsonl:2"].kind == "failed"
    assert origins["baddate.md"].kind == "failed" and "meeting_date" in origins["baddate.md"].reason
    assert any("no-such-folder" in p.origin and p.kind == "failed" for p in summary.problems)
    assert all(p.hint for p in summary.problems), [p for p in summary.problems if not p.hint]
    # good: two markdown items, two decoded text files, the malformed page, two JSONL lines
    assert summary.new == 7, summary.problems
    from assistant.ingest.run import Index

    index = Index(fake_settings)
    texts = " ".join(c.text for c in index.store.get())
    index.close()
    assert "\u2018step-down\u2019 cost \u00a3120,000" in texts
    assert "caf\u00e9 r\u00e9sum\u00e9" in texts
    assert "The report was noted" in " ".join(texts.split())


def test_nothing_already_indexed_is_lost_and_the_exit_status_is_non_zero(tmp_path, messy_folder, corpus_copy):
    env = cli_env(tmp_path / "index")
    assert run_cli("ingest", str(corpus_copy), "--no-progress", env=env).returncode == 0
    result = run_cli("ingest", str(messy_folder), "--no-progress", env=env)
    assert result.returncode == 1
    assert "failed" in result.stdout and "binary.txt" in result.stdout and "items.jsonl:2" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    stats = json.loads(run_cli("stats", "--json", env=env).stdout)
    assert stats["items"] == 5 + 7


def test_a_pipe_among_the_minutes_is_skipped_not_waited_on(tmp_path):
    import os

    folder = tmp_path / "with-pipe"
    write_markdown_corpus(folder, 1)
    os.mkfifo(folder / "minutes.md")  # opened for reading, it would wait for a writer that never comes
    env = cli_env(tmp_path / "index")
    for given in (folder, folder / "minutes.md"):
        result = run_cli("ingest", str(given), "--no-progress", env=env, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "skipped: " in result.stdout and "minutes.md: is not a regular file" in result.stdout


def test_a_file_and_a_folder_named_in_bytes_that_are_not_utf8_are_ingested(fake_settings, tmp_path):
    """Their names reach Python with surrogate escapes, which the manifest's hashes and SQLite could not store: the
    whole ingest died with a traceback, and every run after it."""
    import os

    from assistant.ingest.run import Index

    folder = tmp_path / "minutes"
    write_markdown_corpus(folder, 1)
    (folder / os.fsdecode(b"r\xe9union.txt")).write_text("Minutes:\nThere were 502 children in care.\n")
    (folder / os.fsdecode(b"caf\xe9")).mkdir()
    (folder / os.fsdecode(b"caf\xe9") / "minutes.txt").write_text("Minutes:\nThere were 503 children in care.\n")
    summary = ingest([folder], fake_settings)
    assert (summary.new, summary.problems) == (3, [])
    again = ingest([folder], fake_settings)
    assert (again.new, again.unchanged, again.problems) == (0, 3, [])
    index = Index(fake_settings)
    ids = set(index.manifest.rows())
    index.close()
    assert {"file:r\ufffdunion.txt", "file:caf\ufffd/minutes.txt"} <= ids


def test_a_symlinked_sub_folder_keeps_its_items_through_prune(fake_settings, tmp_path):
    """2022/ moved to an archive disk, a link left in its place: --prune had removed its items, read nowhere."""
    folder = tmp_path / "minutes"
    (folder / "2022").mkdir(parents=True)
    (folder / "2022" / "adoption.txt").write_text("Minutes:\nThere were 19 adoption orders granted.\n")
    (folder / "fostering-2023.txt").write_text("Minutes:\nThere were 7 fostering panels.\n")
    assert ingest([folder], fake_settings).new == 2
    (folder / "2022").rename(tmp_path / "archive-2022")
    (folder / "2022").symlink_to(tmp_path / "archive-2022")
    summary = ingest([folder], fake_settings, prune=True)
    assert (summary.unchanged, summary.removed, summary.problems) == (2, 0, [])


def test_an_oversized_file_is_skipped_with_the_cap_named(fake_settings, tmp_path):
    folder = tmp_path / "big"
    write_markdown_corpus(folder, 1)
    (folder / "huge.txt").write_text("Minutes:\n" + "word " * 5000, encoding="utf-8")
    summary = ingest([folder], fake_settings.with_(max_item_chars=10_000))
    (problem,) = summary.problems
    assert problem.kind == "skipped" and "ASSISTANT_MAX_ITEM_CHARS" in problem.describe()
    assert summary.new == 1


_MEASURE = """
import resource, sys
from pathlib import Path
from assistant.ingest.run import ingest
from assistant.settings import Settings
summary = ingest([Path(p) for p in sys.argv[2:]], Settings.from_env(data_dir=Path(sys.argv[1])), progress=False)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, len(summary.skipped))
"""


@pytest.mark.slow
def test_a_50_mb_file_costs_at_most_300_mb_of_extra_memory(tmp_path):
    folder = tmp_path / "c"
    write_markdown_corpus(folder, 3)
    big_folder = tmp_path / "big"
    big_folder.mkdir()
    line = "The committee discussed placements for looked after children at length. " * 10 + "\n"
    with (big_folder / "huge.txt").open("w", encoding="utf-8") as handle:
        while handle.tell() < 50 * 1024 * 1024:
            handle.write(line)
    env = cli_env(tmp_path / "unused")

    def peak_kb(data_dir, *paths):
        out = subprocess.run([sys.executable, "-c", _MEASURE, str(data_dir), *map(str, paths)], env=env,
                             capture_output=True, text=True, check=True).stdout.split()
        return int(out[0]), int(out[1])

    without, skipped_without = peak_kb(tmp_path / "i1", folder)
    with_big, skipped_with = peak_kb(tmp_path / "i2", folder, big_folder)
    assert (skipped_without, skipped_with) == (0, 1)
    assert with_big - without <= 300 * 1024, f"peak grew by {(with_big - without) / 1024:.0f} MB"
