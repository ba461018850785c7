"""Defects a maintainer's review of `assistant eval` found, each with the test that fails before its fix."""

import json
from pathlib import Path

import pytest

from assistant.errors import AssistantError
from assistant.index.embedder import HASHING_MODEL
from assistant.present.cli import main

BARNSLEY = "https://barnsleymbc.moderngov.co.uk/mgAi.aspx?ID=23547"
GOOD = {"id": "q1", "question": "Who is the Service Director at Barnsley?", "kind": "who", "gold_urls": [BARNSLEY],
        "must_include": ["Mel John-Ross"]}
ESCAPE = "\x1b[2J"  # clears the screen when printed raw


def _write(path: Path, *rows) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_warnings_and_the_replaced_run_print_an_escape_in_a_file_name_or_id_escaped(tmp_path, hashing_seed_index,
                                                                                     monkeypatch, capsys):
    """A questions file named with an escape sequence, or an id holding one, reached the terminal raw through the
    warnings and the "in place of the results of an earlier run" line, while errors print it escaped."""
    monkeypatch.setenv("ASSISTANT_EMBEDDING_MODEL", HASHING_MODEL)
    questions = _write(tmp_path / f"odd{ESCAPE}.jsonl", {**GOOD, "filter": {}}, {**GOOD, "id": f"Q{ESCAPE}"},
                       {**GOOD, "id": f"q{ESCAPE}"})
    out = tmp_path / "out"
    index = ["--index", str(hashing_seed_index.data_dir)]
    assert main(["eval", "--questions", str(questions), "--out", str(out), *index]) == 0
    assert main(["eval", "--questions", str(_write(tmp_path / "plain.jsonl", GOOD)), "--out", str(out), *index]) == 0
    printed = capsys.readouterr()
    assert "\x1b" not in printed.err and "\x1b" not in printed.out
    assert "odd\\x1b[2J.jsonl:1 has the key 'filter'" in printed.err  # named still, escaped
    assert "in place of the results of an earlier run of " in printed.out and "odd\\x1b[2J.jsonl" in printed.out


def test_a_missing_out_folder_that_cannot_be_made_is_said_to_be_the_out_folder(tmp_path, monkeypatch):
    """--out naming a new folder in one that may not be written got the CLI's catch-all message ("a file and a folder
    may have swapped places"), not the --out folder's own, as an existing folder that may not be written gets."""
    from assistant.present import evaluate

    parent = tmp_path / "locked"
    parent.mkdir()

    def refused(self, *args, **kwargs):  # as mkdir in a folder one may not write (root may write anywhere)
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "mkdir", refused)
    said = r"cannot be written to .*results \(the --out folder\): Permission denied"
    with pytest.raises(AssistantError, match=said) as caught:
        evaluate.check_results_folder(parent / "results")
    assert "--out" in caught.value.hint


def test_every_out_folder_the_eval_readme_shows_is_ignored_by_git():
    """eval/README.md's own commands wrote eval/results/seed and eval/results/dev, which git did not ignore: their
    answers.jsonl quotes the dev corpus, which the committed reports leave out on purpose, and a `git add -A` took it
    in."""
    import fnmatch
    import re

    root = Path(__file__).resolve().parents[2]
    outs = re.findall(r"--out (eval/results/[\w.-]+)", (root / "eval" / "README.md").read_text(encoding="utf-8"))
    assert {"eval/results/seed", "eval/results/dev"} <= set(outs)
    ignored = [line.strip() for line in (root / ".gitignore").read_text(encoding="utf-8").splitlines()
               if line.strip() and not line.startswith(("#", "!"))]
    # A pattern ending in "/" names folders: the folder itself, with everything in it.
    assert not [out for out in outs if not any(fnmatch.fnmatch(out + "/", pattern) for pattern in ignored)]
