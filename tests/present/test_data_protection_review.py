"""What the app's ordinary log and the audit command give away about a question, from a data protection officer's
review: a question may name a child, and the log and the shell are read by more people than the audit log is."""

from __future__ import annotations

import hashlib
import subprocess
import sys

from assistant.text import question_in_log

CHILD = "Where was Jayden O'Brien placed in 2019?"


def test_a_question_in_the_log_cannot_be_confirmed_by_hashing_a_guess():
    # 'question 3f2a9c1b' was the first 8 hex digits of the question's sha256: whoever reads the log could hash a
    # question naming a child they guess at, and find it there.
    tag = question_in_log(CHILD)
    assert hashlib.sha256(CHILD.encode("utf-8")).hexdigest()[:8] not in tag
    assert tag == question_in_log(CHILD) != question_in_log(CHILD + " ")  # lines about one question still correlate
    assert CHILD not in tag and f"({len(CHILD)} characters)" in tag


def test_the_key_is_the_process_own():
    # Nor may a tag be worked out by running the assistant elsewhere: each process keys its tags afresh.
    code = f"from assistant.text import question_in_log; print(question_in_log({CHILD!r}))"
    tags = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
            for _ in range(2)}
    assert len(tags) == 2
