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


@pytest.mark.parametrize("raw, expected", [("", None), ("auto", None), (" Auto ", None), ("0", False),
                                           ("false", False), ("1", True), ("True", True), ("yes", True)])
def test_exact_search_reads_the_usual_ways_of_writing_yes_and_no_and_auto(raw, expected):
    assert Settings.from_env({"ASSISTANT_EXACT_SEARCH": raw}).exact_search is expected
    assert Settings.from_env({}).exact_search is None


def test_a_mistyped_exact_search_setting_names_its_three_values():
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({"ASSISTANT_EXACT_SEARCH": "exact"})
    assert "must be 1, 0 or auto, not 'exact'" in refused.value.message and "auto" in refused.value.hint


def test_flags_override_the_environment():
    s = Settings.from_env({"ASSISTANT_DATA_DIR": "/x"}, data_dir=Path("/y"))
    assert s.data_dir == Path("/y")


@pytest.mark.parametrize("env, fragment", [
    ({"ASSISTANT_CHUNK_TOKENS": "many"}, "whole number"),
    ({"ASSISTANT_CHUNK_TOKENS": "5"}, "at least"),
    ({"ASSISTANT_COLLECTION": "ab"}, "3 to 512"),
    ({"ASSISTANT_EXACT_SEARCH": "sometimes"}, "1, 0 or auto"),
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


@pytest.mark.parametrize("blank", ["", "   "])
def test_an_empty_path_setting_is_unset_not_the_current_folder(blank):
    s = Settings.from_env({"ASSISTANT_DATA_DIR": blank, "ASSISTANT_MODEL_DIR": blank, "ASSISTANT_READER": blank,
                           "ASSISTANT_NLI_MODEL": blank, "ASSISTANT_AUTH": blank,
                           "ASSISTANT_EMBEDDING_MODEL": blank, "XDG_CACHE_HOME": "/cache"})
    assert s.data_dir == Path(".assistant") and s.model_dir == Path("/cache/minutes-assistant/models")
    assert (s.reader, s.nli_model, s.auth_file) == ("", "", "") and s.embedding_model == "all-MiniLM-L6-v2"


@pytest.mark.parametrize("blank", ["", "  "])
def test_every_empty_setting_is_unset(blank):
    names = ["ASSISTANT_COLLECTION", "ASSISTANT_LLM", "ASSISTANT_EMBED_PRECISION", "ASSISTANT_FUSION", "CHROMA_HOST",
             "CHROMA_PORT", "ASSISTANT_CHUNK_TOKENS", "ASSISTANT_FETCH_RATE", "ASSISTANT_EXACT_SEARCH"]
    assert Settings.from_env({name: blank for name in names}) == Settings.from_env({})


def test_a_tilde_in_a_path_setting_is_the_home_folder():
    home = Path.home()
    s = Settings.from_env({"ASSISTANT_DATA_DIR": "~/index", "ASSISTANT_MODEL_DIR": "~/models",
                           "ASSISTANT_READER": "~/reader", "ASSISTANT_NLI_MODEL": "~/nli", "ASSISTANT_AUTH": "~/users",
                           "ASSISTANT_EMBEDDING_MODEL": "~/embedder"})
    assert (s.data_dir, s.model_dir) == (home / "index", home / "models")
    assert [s.reader, s.nli_model, s.auth_file, s.embedding_model] == [
        str(home / name) for name in ("reader", "nli", "users", "embedder")]
    assert Settings.from_env({"XDG_CACHE_HOME": "~/cache"}).model_dir == home / "cache/minutes-assistant/models"


@pytest.mark.parametrize("name, fragment", [
    ("minutes ", "only letters, digits"), ("bad name!", "only letters, digits"), ("café", "only letters, digits"),
    ("-minutes", "start and end"), ("minutes_", "start and end"), ("a..b", "two dots"), ("10.0.0.1", "IP address"),
])
def test_a_collection_name_chroma_refuses_is_refused_naming_the_variable(name, fragment):
    with pytest.raises(ConfigError, match=fragment) as info:
        Settings.from_env({"ASSISTANT_COLLECTION": name})
    assert "ASSISTANT_COLLECTION" in info.value.message and info.value.hint


@pytest.mark.parametrize("name", ["minutes", "abc", "a" * 512, "Minutes-2024.v2_b", "1.2.3"])
def test_collection_names_chroma_takes_are_taken(name):
    assert Settings.from_env({"ASSISTANT_COLLECTION": name}).collection == name


@pytest.mark.parametrize("spec", ["gpt-4o-mini", "openai:", "openai: ", "OpenAI:gpt-4o", "extractive:x", " extractive",
                                  "fake", "llama.cpp"])
def test_a_malformed_answering_mode_is_refused_at_start_naming_the_variable(spec):
    with pytest.raises(ConfigError, match="ASSISTANT_LLM") as info:
        Settings.from_env({"ASSISTANT_LLM": spec})
    assert "openai:MODEL" in info.value.message and info.value.hint
    with pytest.raises(ConfigError, match="ASSISTANT_LLM"):
        Settings.from_env({}).with_(llm=spec)  # as --llm gives it


@pytest.mark.parametrize("spec", ["", "extractive", "local", "local:", "local:/models/smol.gguf",
                                  "local:C:/models/x", "openai:gpt-4o-mini", "openai:qwen2.5:7b"])
def test_every_answering_mode_make_chat_model_takes_passes_the_check(spec):
    assert Settings.from_env({"ASSISTANT_LLM": spec}).llm == (spec or "extractive")  # no model is loaded to check


@pytest.mark.parametrize("host, port, expected", [
    (" 127.0.0.1 ", None, ("127.0.0.1", 8000, False)),
    ("127.0.0.1/", "9000", ("127.0.0.1", 9000, False)),
    ("http://127.0.0.1", "9000", ("127.0.0.1", 9000, False)),  # Chroma's client alone would knock on port 80
    ("https://chroma.example:8443/", None, ("chroma.example", 8443, True)),
    ("chroma.example:8001", "9000", ("chroma.example", 8001, False)),
    ("::1", None, ("::1", 8000, False)),
])
def test_the_chroma_server_may_be_named_the_ways_people_write_it(host, port, expected):
    env = {"CHROMA_HOST": host, **({"CHROMA_PORT": port} if port else {})}
    settings = Settings.from_env(env)
    assert (settings.chroma_host, settings.chroma_port, settings.chroma_ssl) == expected


@pytest.mark.parametrize("env, fragment", [
    ({"CHROMA_HOST": "http://chroma.example/api"}, "CHROMA_HOST must be a host name or address"),
    ({"CHROMA_HOST": "chroma.example:99999"}, "CHROMA_HOST holds a port that is not one"),
    ({"CHROMA_HOST": "h", "CHROMA_PORT": "70000"}, "CHROMA_PORT must be at most 65535"),
    ({"CHROMA_HOST": "h", "CHROMA_PORT": "4_59391"}, "CHROMA_PORT must be a whole number, not '4_59391'"),
    ({"ASSISTANT_CHUNK_TOKENS": "1_80"}, "ASSISTANT_CHUNK_TOKENS must be a whole number"),
    ({"ASSISTANT_FETCH_TIMEOUT": "1e308"}, "ASSISTANT_FETCH_TIMEOUT must be at most 86400"),
    ({"ASSISTANT_CONCURRENCY": "200"}, "ASSISTANT_CONCURRENCY must be at most 32"),
    ({"ASSISTANT_CONCURRENCY": "0"}, "ASSISTANT_CONCURRENCY must be at least 1"),
    ({"ASSISTANT_LLM_MAX_TOKENS": "8"}, "ASSISTANT_LLM_MAX_TOKENS must be at least 16"),
    ({"ASSISTANT_LLM_MAX_TOKENS": "100000"}, "ASSISTANT_LLM_MAX_TOKENS must be at most 4096"),
])
def test_server_and_number_settings_that_cannot_work_are_refused(env, fragment):
    with pytest.raises(ConfigError, match=fragment):
        Settings.from_env(env)


def test_a_tilde_in_an_index_given_on_the_command_line_is_the_home_folder():
    # `--index '~/minutes'`, quoted in a script or a unit file, made a folder named '~'.
    assert Settings.from_env({}, data_dir=Path("~/minutes")).data_dir == Path.home() / "minutes"


def test_empty_chroma_variables_count_as_unset_for_chroma_too(tmp_path, monkeypatch):
    # Chroma's own settings read CHROMA_* and ANONYMIZED_TELEMETRY, and failed with a traceback on an empty one.
    from assistant.index.vector_store import ChromaStore

    for name in ("CHROMA_SERVER_HTTP_PORT", "CHROMA_SERVER_SSL_ENABLED", "ANONYMIZED_TELEMETRY"):
        monkeypatch.setenv(name, "")
    store = ChromaStore(Settings.from_env({}, data_dir=tmp_path), "fake:hashing")
    assert store.count() == 0


def test_a_port_of_zero_in_a_chroma_url_is_refused_not_passed_over():
    with pytest.raises(ConfigError, match="CHROMA_HOST holds a port that is not one"):
        Settings.from_env({"CHROMA_HOST": "http://chroma.example:0", "CHROMA_PORT": "9000"})


def test_the_openai_variables_are_read_once_here_and_the_key_is_never_in_the_settings_repr():
    s = Settings.from_env({"OPENAI_API_BASE": " http://127.0.0.1:11434/v1 ", "OPENAI_API_KEY": "sk-live-abc123 "})
    assert s.openai_base_url == "http://127.0.0.1:11434/v1" and s.openai_api_key == "sk-live-abc123"
    assert s.openai_base_urls == (("OPENAI_API_BASE", "http://127.0.0.1:11434/v1"),)  # named as the user set it
    assert "abc123" not in repr(s)
    with_password = Settings.from_env({"OPENAI_BASE_URL": "https://user:s3cretpw@proxy.example/v1?api-key=zzz"})
    assert "s3cretpw" not in repr(with_password) and "zzz" not in repr(with_password)
    assert Settings.from_env({"OPENAI_BASE_URL": "  ", "OPENAI_API_KEY": ""}).openai_base_urls == ()


def test_two_openai_addresses_that_disagree_are_refused_naming_both_variables():
    from assistant.answer.llm import check_openai_endpoint

    agreeing = Settings.from_env({"OPENAI_BASE_URL": "http://a:1/v1", "OPENAI_API_BASE": "http://a:1/v1/"})
    check_openai_endpoint(agreeing)
    disagreeing = Settings.from_env({"OPENAI_BASE_URL": "http://a:1/v1", "OPENAI_API_BASE": "http://u:pw@b:2/v1"})
    with pytest.raises(ConfigError, match="both set, to different addresses") as info:
        check_openai_endpoint(disagreeing)
    assert "http://a:1/v1" in info.value.message and "http://b:2/v1" in info.value.message
    assert "pw" not in info.value.message and "Unset one" in info.value.hint


def test_an_assistant_variable_nothing_reads_is_named_with_the_setting_it_looks_like():
    """A misspelt ASSISTANT_AUTHH had left the app open to anyone without a word, ASSISTANT_AUDIT_FILE the audit log
    where it was."""
    from assistant.settings import SCRIPT_VARIABLES, unknown_settings

    env = {"ASSISTANT_AUTHH": "users.txt", "ASSISTANT_AUDIT_FILE": "a.sqlite", "ASSISTANT_WHATEVER": "1",
           "ASSISTANT_DATA_DIR": "x", "ASSISTANT_EXACT_SEARCH": "auto", "OPENAI_API_KEY": "k", "HOME": "/root",
           "ASSISTANT_EMPTY": " ",  # empty counts as unset, as for every setting
           **{name: "1" for name in SCRIPT_VARIABLES}}
    assert unknown_settings(env) == [("ASSISTANT_AUDIT_FILE", "ASSISTANT_AUDIT_PATH"),
                                     ("ASSISTANT_AUTHH", "ASSISTANT_AUTH"), ("ASSISTANT_WHATEVER", "")]


def test_every_variable_the_readme_names_is_one_the_assistant_reads_and_each_it_reads_has_a_row():
    """The check had given every name an empty value, which counts as unset: a made-up variable in the README
    passed. Each setting the assistant reads has its row in the README's table too."""
    import re

    from conftest import ROOT
    from assistant.settings import setting_variables, unknown_settings

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"ASSISTANT_[A-Z0-9_]+", readme))
    assert unknown_settings({"ASSISTANT_DOES_NOT_EXIST": "1"}) == [("ASSISTANT_DOES_NOT_EXIST", "")]  # it can fail
    assert named and unknown_settings({name: "1" for name in named}) == []
    rows = set(re.findall(r"^\| `(ASSISTANT_[A-Z0-9_]+)`", readme, re.MULTILINE))
    assert [name for name in setting_variables() if name not in rows] == []


def test_settings_made_in_code_have_the_defaults_the_environment_gives():
    """Settings() put the model folder in the folder the process ran in, where from_env puts it in the user's cache:
    a library user unpacked the bundled model beside their script."""
    from dataclasses import fields

    import os

    # The cache folder comes from XDG_CACHE_HOME when it is set, as it may be where the tests run.
    made = Settings()
    read = Settings.from_env({k: v for k, v in os.environ.items() if k == "XDG_CACHE_HOME"})
    assert [f.name for f in fields(Settings) if getattr(made, f.name) != getattr(read, f.name)] == []


def test_a_setting_given_in_code_under_a_name_settings_lack_is_an_error():
    """Settings.from_env had dropped a misspelt override unseen (chunk_tokns=10 left 180), where with_ raises."""
    with pytest.raises(TypeError, match="chunk_tokns"):
        Settings.from_env({}, chunk_tokns=10)
    with pytest.raises(TypeError):
        Settings.from_env({}).with_(chunk_tokns=10)
