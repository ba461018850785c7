"""Which words a heading may add to its item's title is a word list of its own in assistant.text (STYLE 17), not the
acronym stop list it had borrowed: editing that list no longer changes which quotes only repeat a title."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap

from conftest import ROOT


def test_the_title_filler_words_are_their_own_list_with_the_words_they_had():
    from assistant.text import INITIALISM_SKIPPED_WORDS, TITLE_FILLER_WORDS

    assert TITLE_FILLER_WORDS == {"and", "of", "the", "for", "in"}
    assert TITLE_FILLER_WORDS is not INITIALISM_SKIPPED_WORDS


def test_changing_the_acronym_stop_list_leaves_what_repeats_a_title_as_it_was():
    script = textwrap.dedent("""
        import assistant.text
        assistant.text.INITIALISM_SKIPPED_WORDS = frozenset()  # an edit of the acronym list, made before any use
        from assistant.answer.candidates import repeats_title
        from assistant.records import Hit, ScoredSentence
        text = "Statement from the Chair"
        hit = Hit("c1", text, {"source_id": "s1", "item_title": "Statement from Chair"}, 1.0)
        print(repeats_title(ScoredSentence(hit, 0, 0, len(text), 0.9, 0.9)))
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True)
    assert run.stdout.strip() == "True", run.stderr


def test_ingest_run_imports_at_its_top_what_it_imports_there_already():
    """A function importing again from a module the file imports at its top hides a dependency in the middle of the
    file, for nothing: no import cycle needs it."""
    tree = ast.parse((ROOT / "assistant" / "ingest" / "run.py").read_text(encoding="utf-8"))
    at_top = {node.module for node in tree.body if isinstance(node, ast.ImportFrom)}
    inside = [(node.lineno, node.module) for function in ast.walk(tree)
              if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef))
              for node in ast.walk(function) if isinstance(node, ast.ImportFrom) and node.module in at_top]
    assert inside == []
