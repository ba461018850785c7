from pathlib import Path

import pytest

from assistant.errors import ConfigError
from assistant.settings import Settings


def test_defaults_and_environment():
    s = Settings.from_env({})
    assert s.data_dir == Path(".assistant") and s.chunk_tokens == 180 and s.llm == "extractive"
    assert not s.uses_chroma_server
    s = Settings.from_env({"ASSISTANT_DATA_DIR": "/x", "ASSISTANT_CHUNK_TOKENS": "120", "CHROMA_HOST": "h",
                           "CHROMA_PORT": "9000", "ASSISTANT_MODEL_DIR": "/m"})
    assert s.data_dir == Path("/x") and s.chunk_tokens == 120 and s.chroma_port == 9000
    assert s.uses_chroma_server and s.model_dir == Path("/m")


@pytest.mark.parametrize("raw, expected", [("", False), ("0", False), ("false", False), ("1", True), ("True", True),
                                           ("yes", True)])
def test_exact_search_reads_the_usual_ways_of_writing_yes_and_no(raw, expected):
    assert Settings.from_env({"ASSISTANT_EXACT_SEARCH": raw}).exact_search is expected


def test_flags_override_the_environment():
    s = Settings.from_env({"ASSISTANT_DATA_DIR": "/x"}, data_dir=Path("/y"))
    assert s.data_dir == Path("/y")


@pytest.mark.parametrize("env, fragment", [
    ({"ASSISTANT_CHUNK_TOKENS": "many"}, "whole number"),
    ({"ASSISTANT_CHUNK_TOKENS": "5"}, "at least"),
    ({"ASSISTANT_COLLECTION": "ab"}, "3 to 512"),
    ({"ASSISTANT_EXACT_SEARCH": "sometimes"}, "1 or 0"),
])
def test_bad_settings_say_what_to_do(env, fragment):
    with pytest.raises(ConfigError, match=fragment) as info:
        Settings.from_env(env)
    assert info.value.hint


@pytest.mark.parametrize("change, fragment", [
    ({"embed_precision": "fp8"}, "ASSISTANT_EMBED_PRECISION"),
    ({"fusion": "average"}, "ASSISTANT_FUSION"),
    ({"collection": "x"}, "3 to 512"),
])
def test_a_changed_setting_is_checked_as_the_environment_is(change, fragment):
    settings = Settings.from_env({})
    with pytest.raises(ConfigError, match=fragment):
        settings.with_(**change)
    assert settings.with_(embed_precision="fp32", fusion=None).embed_precision == "fp32"
