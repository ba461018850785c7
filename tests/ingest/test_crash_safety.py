"""Killing `assistant ingest` with SIGKILL at any named point, then running it again, ends with the
same index as an uninterrupted run: no duplicates, nothing missing, manifest and Chroma agreeing."""

import json
import shutil
import signal

import pytest

from assistant.index.manifest import Manifest
from assistant.index.stats import index_stats
from assistant.settings import Settings

from cli_helpers import cli_env, index_snapshot as snapshot, run_cli
from corpus_factory import write_markdown_corpus

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def corpus_and_reference(tmp_path_factory):
    base = tmp_path_factory.mktemp("crash")
    folder = base / "corpus"
    write_markdown_corpus(folder, 40)  # 40 items: three manifest batches of up to 16
    reference = base / "reference"
    result = run_cli("ingest", str(folder), "--no-progress", env=cli_env(reference, ASSISTANT_EMBED_BATCH="8"))
    assert result.returncode == 0, result.stderr
    return folder, snapshot(reference)


@pytest.mark.parametrize("point", [
    "after_read",
    "during_embedding:1",
    "during_embedding:5",
    "after_chroma_write:1",
    "after_manifest_commit:1",
    "after_chroma_write:3",
    "after_manifest_commit:2",
])
def test_kill_then_rerun_gives_the_uninterrupted_index(tmp_path, corpus_and_reference, point):
    folder, reference = corpus_and_reference
    env = cli_env(tmp_path / "index", ASSISTANT_EMBED_BATCH="8")
    killed = run_cli("ingest", str(folder), "--no-progress", env={**env, "ASSISTANT_CRASH_AT": point})
    assert killed.returncode == -signal.SIGKILL, (killed.returncode, killed.stderr)
    again = run_cli("ingest", str(folder), "--no-progress", env=env)
    assert again.returncode == 0, again.stderr
    chroma, manifest = snapshot(tmp_path / "index")
    assert [c[0] for c in chroma] == sorted({c[0] for c in chroma})  # no duplicates
    assert (chroma, manifest) == reference
    assert {r[2] for r in manifest} == {"done"}
    assert {c[0] for c in chroma} == {cid for r in manifest for cid in r[3]}


def test_a_kill_during_a_replacement_keeps_no_stale_chunks(tmp_path, corpus_and_reference):
    folder, reference = corpus_and_reference
    env = cli_env(tmp_path / "index", ASSISTANT_EMBED_BATCH="8")
    assert run_cli("ingest", str(folder), "--no-progress", env=env).returncode == 0
    changed = folder.parent / "changed"
    write_markdown_corpus(changed, 40)
    first = changed / "item-000.md"
    first.write_text(first.read_text().replace("Members noted", "Members questioned"), encoding="utf-8")
    killed = run_cli("ingest", str(changed), "--no-progress", env={**env, "ASSISTANT_CRASH_AT": "after_chroma_write:1"})
    assert killed.returncode == -signal.SIGKILL
    assert run_cli("ingest", str(changed), "--no-progress", env=env).returncode == 0
    fresh = tmp_path / "fresh"
    assert run_cli("ingest", str(changed), "--no-progress", env=cli_env(fresh, ASSISTANT_EMBED_BATCH="8")).returncode == 0
    assert snapshot(tmp_path / "index") == snapshot(fresh)


@pytest.mark.slow
def test_a_kill_during_real_embedding(tmp_path, corpus_and_reference):
    """The same, with the real MiniLM model doing the embedding when the kill lands."""
    folder, _ = corpus_and_reference
    env = cli_env(tmp_path / "index", fake_embedder=False, ASSISTANT_EMBED_BATCH="16")
    killed = run_cli("ingest", str(folder), "--no-progress", env={**env, "ASSISTANT_CRASH_AT": "during_embedding:2"})
    assert killed.returncode == -signal.SIGKILL
    assert run_cli("ingest", str(folder), "--no-progress", env=env).returncode == 0
    reference = tmp_path / "reference"
    assert run_cli("ingest", str(folder), "--no-progress", env={**env, "ASSISTANT_DATA_DIR": str(reference)}).returncode == 0
    settings = Settings.from_env({}, data_dir=tmp_path / "index")
    manifest = Manifest(settings.manifest_path)
    rows = manifest.rows()
    manifest.close()
    ref_manifest = Manifest(Settings.from_env({}, data_dir=reference).manifest_path)
    ref_rows = ref_manifest.rows()
    ref_manifest.close()
    assert {k: (r.fingerprint, r.status, r.chunk_ids) for k, r in rows.items()} == \
        {k: (r.fingerprint, r.status, r.chunk_ids) for k, r in ref_rows.items()}


def test_items_a_killed_run_left_pending_are_counted_new_when_run_again(tmp_path, corpus_and_reference):
    folder, _ = corpus_and_reference
    env = cli_env(tmp_path / "index", ASSISTANT_EMBED_BATCH="8")
    killed = run_cli("ingest", str(folder), "--no-progress", env={**env, "ASSISTANT_CRASH_AT": "after_chroma_write:2"})
    assert killed.returncode == -signal.SIGKILL
    again = run_cli("ingest", str(folder), "--no-progress", "--json", env=env)
    assert again.returncode == 0, again.stderr
    counts = json.loads(again.stdout)
    # The first batch of 16 was finished; the second was written to Chroma, not to the manifest: never in the index.
    assert (counts["new"], counts["replaced"], counts["unchanged"]) == (24, 0, 16), counts


def test_stats_says_a_reset_was_cut_short_until_an_ingest_finishes(tmp_path, corpus_and_reference):
    folder, _ = corpus_and_reference
    env = cli_env(tmp_path / "index", ASSISTANT_EMBED_BATCH="8")
    assert run_cli("ingest", str(folder), "--no-progress", env=env).returncode == 0
    killed = run_cli("ingest", str(folder), "--reset", "--no-progress", env={**env, "ASSISTANT_CRASH_AT": "after_read"})
    assert killed.returncode == -signal.SIGKILL
    settings = Settings.from_env({}, data_dir=tmp_path / "index")
    # The reset had removed the old index's text, whose purge it had not reached: said too, before any copy is made.
    reset, purge = index_stats(settings).notes
    assert "reset" in reset and "cut short" in reset and "run the same `assistant ingest`" in reset, reset
    assert "may still be readable" in purge, purge
    assert run_cli("ingest", str(folder), "--no-progress", env=env).returncode == 0
    assert index_stats(settings).notes == () and index_stats(settings).items == 40


def test_a_corrected_date_that_a_killed_run_left_out_of_the_keyword_index_is_not_answered_from(tmp_path):
    """A corrected meeting date changes an item's metadata, not its chunk ids. A run killed after its manifest commit,
    before the keyword index took the new date, left `ask` to open the index as current, and filter on the old date
    that the keyword index still held: 'since 2023' missed the item that the manifest and the vectors dated 2023."""
    folder = tmp_path / "corpus"
    corrected = write_markdown_corpus(folder, 3)[1]
    env = cli_env(tmp_path / "index")
    assert run_cli("ingest", str(folder), "--no-progress", env=env).returncode == 0
    text = corrected.read_text(encoding="utf-8")
    old_date = json.loads(text.split("meeting_date: ")[1].split("\n")[0])
    corrected.write_text(text.replace(f'meeting_date: "{old_date}"', 'meeting_date: "2023-03-12"'), encoding="utf-8")
    killed = run_cli("ingest", str(folder), "--no-progress",
                     env={**env, "ASSISTANT_CRASH_AT": "after_manifest_commit:1"})
    assert killed.returncode == -signal.SIGKILL, killed.stderr

    asked = run_cli("ask", "How many children were supported?", "--since", "2023-01-01", env=env)
    assert asked.returncode != 0
    assert "does not match the manifest" in asked.stderr and "assistant ingest" in asked.stderr, asked.stderr
    assert run_cli("ingest", str(folder), "--no-progress", env=env).returncode == 0
    asked = run_cli("ask", "How many children were supported?", "--since", "2023-01-01", "--json", env=env)
    assert asked.returncode == 0, asked.stderr
    assert [c["meeting_date"] for c in json.loads(asked.stdout)["citations"]] == ["2023-03-12"]


def test_ctrl_c_mid_ingest_leaves_the_finished_items_answerable(fake_settings, tmp_path, monkeypatch):
    """The keyword index was saved only at an ingest's end: after Ctrl-C, `ask` and the app refused every question,
    those about minutes indexed long before too, until the ingest was run again."""
    from assistant.answer.service import Assistant
    from assistant.ingest.run import CrashPoints, ingest

    from conftest import CORPUS

    ingest([CORPUS], fake_settings, progress=False)
    folder = write_markdown_corpus(tmp_path / "more", 20)[0].parent  # two manifest batches of up to 16

    def ctrl_c_in_the_second_batch(self, name):
        self.seen[name] += 1
        if name == "after_chroma_write" and self.seen[name] == 2:  # its rows pending, its chunks written
            raise KeyboardInterrupt

    monkeypatch.setattr(CrashPoints, "reached", ctrl_c_in_the_second_batch)
    with pytest.raises(KeyboardInterrupt):
        ingest([folder], fake_settings, progress=False)
    assert index_stats(fake_settings).notes == ("4 items were interrupted mid-ingest: run `assistant ingest` again",)
    opened = Assistant(fake_settings)  # refused: "The keyword index ... does not match the manifest"
    opened.close()
    monkeypatch.undo()
    again = ingest([folder], fake_settings, progress=False)
    assert (again.new, again.unchanged) == (4, 16) and index_stats(fake_settings).notes == ()


_DRAFT = ("Minutes of the Corporate Parenting Panel held on 5 October 2026\n\n"
          "1. Apologies for Absence\n\nApologies were received from Councillor Amir Khan.\n\n"
          "2. Declarations of Interest\n\nThere were no declarations of interest.\n\n"
          "3. Care Leavers Accommodation\n\nThe panel heard that 37 care leavers were living in unsuitable "
          "accommodation at the end of September 2026.\n")


def _stopped_at(point: str):
    def reached(self, name):
        self.seen[name] += 1
        if name == point:
            raise KeyboardInterrupt  # Ctrl-C there, or a kill: the run's later steps never happen
    return reached


@pytest.mark.parametrize("point", ["after_chroma_write", "after_manifest_commit"])
@pytest.mark.parametrize("change", ["renamed with a figure corrected", "named through its folder"])
def test_a_stopped_run_that_gave_a_file_a_new_identity_ends_as_an_uninterrupted_one(fake_settings, tmp_path,
                                                                                     monkeypatch, point, change):
    """A draft renamed to its approved name (or a file named through its folder now), the ingest stopped once its new
    entries were written: run again, it took them for a file indexed before, and the old entries stayed for good,
    the draft's uncorrected figure quoted beside the approved one (or the file indexed twice)."""
    from assistant.ingest.run import CrashPoints, ingest

    def prepare(data_dir):
        folder = data_dir.parent / "minutes"
        if folder.exists():
            shutil.rmtree(folder)
        (folder / "cpp").mkdir(parents=True)
        (folder / "cpp" / "draft.txt").write_text(_DRAFT, encoding="utf-8")
        settings = fake_settings.with_(data_dir=data_dir)
        if change == "named through its folder":
            ingest([folder / "cpp"], settings, council="Northbrook Borough Council", progress=False)
        else:
            ingest([folder], settings, council="Northbrook Borough Council", progress=False)
            (folder / "cpp" / "draft.txt").unlink()
            (folder / "cpp" / "approved.txt").write_text(_DRAFT.replace("that 37 care", "that 39 care"),
                                                         encoding="utf-8")
        return folder, settings

    folder, reference = prepare(tmp_path / "reference" / "index")
    ingest([folder], reference, progress=False)

    folder, settings = prepare(tmp_path / "stopped" / "index")
    monkeypatch.setattr(CrashPoints, "reached", _stopped_at(point))
    with pytest.raises(KeyboardInterrupt):
        ingest([folder], settings, progress=False)
    monkeypatch.undo()
    again = ingest([folder], settings, progress=False)
    assert "no longer exist" not in " ".join(again.notes), again.notes
    chroma, manifest = snapshot(settings.data_dir)
    assert {row[0].split("#")[0] for row in manifest} == {
        "file:cpp/approved.txt" if change.startswith("renamed") else "file:cpp/draft.txt"}, manifest
    assert not any("37 care" in text for *_, text in chroma) or change == "named through its folder", chroma
    assert (chroma, manifest) == snapshot(reference.data_dir)


def test_a_renamed_file_whose_stopped_run_embedded_nothing_keeps_its_old_vectors_when_run_again(fake_settings,
                                                                                               tmp_path, monkeypatch):
    """The rename's run stopped while embedding (its new entries pending, none in the store): run again, every chunk
    of the renamed file was embedded again, where the uninterrupted run kept the old entries' vectors for the items
    the rename left as they were."""
    from assistant.ingest.run import CrashPoints, ingest

    runs = []
    for name, stop in (("reference", False), ("stopped", True)):
        folder = tmp_path / name / "minutes"
        folder.mkdir(parents=True)
        (folder / "draft.txt").write_text(_DRAFT, encoding="utf-8")
        settings = fake_settings.with_(data_dir=tmp_path / name / "index")
        ingest([folder], settings, council="Northbrook Borough Council", progress=False)
        (folder / "draft.txt").unlink()
        (folder / "approved.txt").write_text(_DRAFT.replace("that 37 care", "that 39 care"), encoding="utf-8")
        if stop:
            monkeypatch.setattr(CrashPoints, "reached", _stopped_at("during_embedding"))
            with pytest.raises(KeyboardInterrupt):
                ingest([folder], settings, progress=False)
            monkeypatch.undo()
        runs.append(ingest([folder], settings, progress=False))
    reference, again = runs
    assert reference.vectors_kept == 3 and reference.removed == 4, reference.report()  # the corrected item embedded
    assert (again.vectors_kept, again.tokens_embedded) == (reference.vectors_kept, reference.tokens_embedded), \
        again.report()
