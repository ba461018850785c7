"""What the README, CONTRIBUTING.md and eval/README.md tell a maintainer to open or run is there."""

import re

from conftest import ROOT

DOCS = ("README.md", "CONTRIBUTING.md", "eval/README.md")


def test_every_test_script_and_module_file_the_docs_name_exists():
    """eval/README.md sent a maintainer to tests/test_eval_data.py, which had moved to tests/present/ when the tests
    were laid out by stage."""
    named = {(doc, path) for doc in DOCS
             for path in re.findall(r"\b((?:tests|scripts|assistant)/[\w/.-]+\.(?:py|sh|json|tsv|txt))\b",
                                    (ROOT / doc).read_text(encoding="utf-8"))}
    assert named
    assert sorted((doc, path) for doc, path in named if not (ROOT / path).is_file()) == []


def test_every_script_the_set_up_and_test_commands_run_is_named_in_the_readme():
    """Under CI=true, ./test.sh (and .ci/run) ran scripts/ci-system-deps.sh, which as root installs system packages
    with apt-get (Chromium among them): the README's account of those commands did not say so."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    run = {script for command in ("run.sh", "test.sh", ".ci/run")
           for script in re.findall(r"scripts/[\w.-]+\.sh", (ROOT / command).read_text(encoding="utf-8"))}
    assert "scripts/bootstrap.sh" in run
    assert sorted(script for script in run if f"`{script}`" not in readme) == []


def test_the_readme_and_the_rate_flag_state_both_bounds_of_the_fetch_rate(capsys):
    """A rate over 100 a second is refused when fetch starts, but the README's ASSISTANT_FETCH_RATE row and `fetch
    --help` gave only the lower bound."""
    import pytest

    from assistant.ingest.moderngov.client import MAX_FETCH_RATE
    from assistant.present.cli import main
    from assistant.settings import SLOWEST_FETCH_RATE

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    row = re.search(r"^\| `ASSISTANT_FETCH_RATE` .*$", readme, re.MULTILINE).group(0)
    assert f"at least `{SLOWEST_FETCH_RATE:g}`" in row and f"at most `{MAX_FETCH_RATE:g}`" in row
    with pytest.raises(SystemExit):
        main(["fetch", "--help"])
    assert f"{SLOWEST_FETCH_RATE:g} to {MAX_FETCH_RATE:g}" in " ".join(capsys.readouterr().out.split())


def test_every_command_that_takes_llm_says_the_same_of_it_naming_the_modes_and_the_default(capsys):
    """`ask --help` called extractive the default and then $ASSISTANT_LLM; brief, serve and eval said 'answering
    mode' and named none of the modes."""
    import pytest

    from assistant.present.cli import main

    helps = {}
    for command in ("ask", "brief", "serve", "eval"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = " ".join(capsys.readouterr().out.split())
        helps[command] = text[text.index("--llm SPEC ") + len("--llm SPEC "):].split(" --")[0]
    assert len(set(helps.values())) == 1, helps
    said = helps["ask"]
    assert all(mode in said for mode in ("extractive", "openai:MODEL", "local")) and "$ASSISTANT_LLM" in said
    assert said.count("default") == 1


def test_serve_help_gives_the_defaults_of_its_corpus_and_port(capsys):
    """`serve --help` gave --corpus no default (it is corpus/, as the README says) and the port as 7860, where a
    taken 7860 gives the next free port."""
    import pytest

    from assistant.present.cli import main

    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    said = " ".join(capsys.readouterr().out.split())
    assert "--corpus DIR folder to index before serving (default: corpus/)" in said
    assert "else 7860 or the next free port after it" in said


def test_ingest_help_names_every_kind_of_input_council_and_committee_apply_to(capsys):
    """`ingest --help` said --council applies to PDF, Word and text files and front matter; it applies, as the README
    says, to HTML pages and JSONL lines that name no council too."""
    import pytest

    from assistant.present.cli import main

    with pytest.raises(SystemExit):
        main(["ingest", "--help"])
    said = " ".join(capsys.readouterr().out.split())
    council = said[said.index("--council NAME the"):said.index("--committee NAME the")]
    assert all(kind in council for kind in ("PDF", "Word", "plain text", "HTML", "JSONL", "front matter"))



def test_audit_help_writes_its_limit_as_it_says_it(capsys):
    """`audit --help` showed `--limit LIMIT` and said 'the most recent N answers', as the README writes `--limit N`."""
    import pytest

    from assistant.present.cli import main

    with pytest.raises(SystemExit):
        main(["audit", "--help"])
    assert "--limit N only the most recent N answers" in " ".join(capsys.readouterr().out.split())


def test_user_help_says_what_the_name_is(capsys):
    """`user --help` listed `name` with nothing said of it, where the README writes `user add NAME` and a name is held
    to letters, digits and . _ @ -."""
    import pytest

    from assistant.present.cli import main

    with pytest.raises(SystemExit):
        main(["user", "--help"])
    said = " ".join(capsys.readouterr().out.split())
    assert "{add,remove} NAME" in said and "NAME the user's name" in said and ". _ @ -" in said
