"""From a privacy review: ways text marked not for publication still reached the index."""

from __future__ import annotations

import json

from assistant.index.manifest import Manifest
from assistant.ingest.run import ingest

SECRET = "Child K.M. (aged 9), of 12 Acacia Road, is placed with foster carers at 9,000 pounds a week."


def _stored(settings) -> bytes:
    return b"".join(path.read_bytes() for path in settings.data_dir.rglob("*") if path.is_file())


def _indexed(settings) -> set[str]:
    manifest = Manifest(settings.manifest_path)
    try:
        return set(manifest.rows())
    finally:
        manifest.close()


def test_an_item_restricted_in_one_of_two_copies_of_its_identity_is_withheld_whichever_is_read_first(
        fake_settings, tmp_path):
    folder = tmp_path / "minutes"
    folder.mkdir()
    line = {"id": "item-77", "council": "Northshire", "title": "Placement", "date": "2024-03-08", "text": SECRET}
    (folder / "export.jsonl").write_text(json.dumps(line) + "\n" + json.dumps({**line, "restricted": True}) + "\n",
                                         encoding="utf-8")
    summary = ingest([folder], fake_settings, progress=False)
    assert "item-77" not in _indexed(fake_settings), summary.report()
    assert b"Acacia" not in _stored(fake_settings)
    assert [p.kind for p in summary.problems] == ["failed", "restricted"]  # the clash is still named
