import subprocess
import sys
import zipfile

import pytest

from assistant.errors import ModelError
from assistant.index.models import BUNDLED_SHA256, bundled_zip_path, ensure_bundled_model, sha256_of


def test_the_zip_is_found_without_importing_the_package():
    code = ("import sys; from assistant.index.models import bundled_zip_path; p = bundled_zip_path(); "
            "assert 'all_minilm_l6_v2' not in sys.modules; print(p)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().endswith("model.zip")


@pytest.mark.slow
def test_extraction_into_a_fresh_folder_verifies_the_weights(tmp_path):
    folder = ensure_bundled_model(tmp_path / "models")
    assert sha256_of(folder / "model.safetensors") == BUNDLED_SHA256
    assert (folder / "tokenizer.json").is_file() and (folder / "modules.json").is_file()
    assert ensure_bundled_model(tmp_path / "models") == folder  # second call: already there
    assert [p.name for p in (tmp_path / "models").iterdir()] == [folder.name]  # no staging left


def test_tampered_weights_are_refused(tmp_path):
    fake_zip = tmp_path / "model.zip"
    with zipfile.ZipFile(fake_zip, "w") as archive:
        archive.writestr("model.safetensors", b"not the real weights")
        archive.writestr("config.json", "{}")
    with pytest.raises(ModelError, match="sha256") as info:
        ensure_bundled_model(tmp_path / "models", zip_path=fake_zip)
    assert "reinstall" in info.value.hint
    assert not any((tmp_path / "models").iterdir())


def test_a_broken_zip_is_refused(tmp_path):
    broken = tmp_path / "model.zip"
    broken.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(ModelError, match="zip"):
        ensure_bundled_model(tmp_path / "models", zip_path=broken)


def test_a_model_name_that_is_not_on_disk_is_refused_without_downloading(settings):
    from assistant.index.embedder import make_embedder

    embedder = make_embedder(settings.with_(embedding_model="sentence-transformers/all-mpnet-base-v2"))
    with pytest.raises(ModelError, match="not a local folder"):
        embedder.embed_query("x")


def test_bundled_zip_path_points_at_a_real_file():
    assert bundled_zip_path().stat().st_size > 80_000_000


@pytest.mark.slow
def test_the_unpacked_model_may_be_read_by_the_other_users_that_share_the_folder(tmp_path):
    # ASSISTANT_MODEL_DIR is shared by every index, and so by the user who ingests and the one the app runs as: a
    # folder readable by its maker alone (a temporary folder's 0700) stopped every other user at the first question.
    import os
    import stat

    old = os.umask(0o022)
    try:
        folder = ensure_bundled_model(tmp_path / "models")
    finally:
        os.umask(old)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o755


def test_a_model_folder_that_cannot_be_made_names_the_setting_that_moves_it(tmp_path):
    # A service user's home that it may not write (or a file where the folder goes) had given only "Could not read or
    # write ~/.cache", with no word of what it was for or of ASSISTANT_MODEL_DIR.
    taken = tmp_path / "models"
    taken.write_text("not a folder")
    with pytest.raises(ModelError) as info:
        ensure_bundled_model(taken, zip_path=tmp_path / "model.zip")
    assert str(taken) in info.value.message and "embedding model" in info.value.message
    assert "ASSISTANT_MODEL_DIR" in info.value.hint


def test_a_full_disk_while_unpacking_the_model_is_named_as_such(tmp_path, monkeypatch):
    # From the code review: every OSError got the hint to set ASSISTANT_MODEL_DIR to a folder this user may write,
    # which a full disk is not mended by.
    import errno

    from assistant.index import models

    def full(*args):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "models" / "model.safetensors"))

    monkeypatch.setattr(models, "_unpacked", full)
    with pytest.raises(ModelError) as info:
        ensure_bundled_model(tmp_path / "models")
    assert "No space left on device" in info.value.message and info.value.hint.startswith("The disk is full")
