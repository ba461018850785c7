"""The manifest's queries of what an ingest finished: a row a killed run left pending is not in the index."""

from __future__ import annotations

from assistant.index.manifest import Manifest, ManifestRow


def test_finished_ids_and_chunk_counts_leave_out_items_a_run_left_pending(tmp_path):
    manifest = Manifest(tmp_path / "manifest.sqlite")
    try:
        manifest.write([ManifestRow("a", "fp-a", "done", ("a-0", "a-1")),
                        ManifestRow("b", "fp-b", "pending", ("b-0",)),
                        ManifestRow("c", "fp-c", "done", ("c-0",))])
        assert manifest.finished_ids() == {"a", "c"}
        assert manifest.indexed_chunk_ids() == {"a-0", "a-1", "c-0"}
        assert manifest.chunk_count() == 3 and manifest.has_finished_items()
        manifest.remove(["a", "c"])
        assert manifest.finished_ids() == set() and not manifest.has_finished_items()
    finally:
        manifest.close()
