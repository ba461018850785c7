"""`assistant brief`, `assistant audit` and `assistant user add`, run as a user would."""

import json
import re
from pathlib import Path

import pytest
from docx import Document

from assistant.present.auth import checker, read_users
from cli_helpers import cli_env, run_cli
from conftest import CORPUS
from moderngov_site import WINDOW, own_site

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    env = cli_env(tmp_path_factory.mktemp("cli") / "index", fake_embedder=False)
    assert run_cli("ingest", str(CORPUS), "--no-progress", env=env).returncode == 0
    return env


def test_brief_writes_markdown_and_docx(env, tmp_path):
    questions = tmp_path / "questions.txt"
    questions.write_text("# for the December briefing\n\nHow many children were discharged from care "
                         "in 2018?\nHow much did Bradford spend on agency staff in 2021/22?\n", encoding="utf-8")
    result = run_cli("brief", "--questions", str(questions), "--out", str(tmp_path / "b.md"), env=env)
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "b.md").read_text(encoding="utf-8")
    assert "How many children" in text and "148" in text and "Rotherham Metropolitan Borough Council" in text
    assert "The minutes in the index do not" in text and "\nMade: " in text and "Filters: none" in text
    jsonl = tmp_path / "questions.jsonl"
    jsonl.write_text(json.dumps({"question": "What percentage of reports were available 3 days before child "
                                             "protection conferences?", "council": "Sefton"}) + "\n")
    result = run_cli("brief", "--questions", str(jsonl), "--out", str(tmp_path / "b.docx"), env=env)
    assert result.returncode == 0, result.stderr
    doc = "\n".join(p.text for p in Document(tmp_path / "b.docx").paragraphs)
    assert "28.5%" in doc and "Sefton Council" in doc and "council: Sefton" in doc


def test_brief_with_a_bad_questions_file_says_what_to_do(env, tmp_path):
    result = run_cli("brief", "--questions", str(tmp_path / "missing.txt"), "--out", str(tmp_path / "b.md"), env=env)
    assert result.returncode == 2 and "--questions" in result.stderr
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n")
    result = run_cli("brief", "--questions", str(empty), "--out", str(tmp_path / "b.md"), env=env)
    assert result.returncode == 2 and "no questions" in result.stderr
    questions = tmp_path / "q.txt"
    questions.write_text("What was said?\n")
    result = run_cli("brief", "--questions", str(questions), "--out", str(tmp_path / "b.pdf"), env=env)
    assert result.returncode == 2 and ".docx (Word) or .md (Markdown)" in result.stderr


def test_brief_checks_each_questions_filters_with_the_command_lines_before_asking(env, tmp_path):
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"question": "How many children left care?"}) + "\n"
                         + json.dumps({"question": "What was said?", "until": "2019-01-01"}) + "\n")
    audit_before = run_cli("audit", "--format", "jsonl", env=env).stdout
    result = run_cli("brief", "--questions", str(questions), "--since", "2020-01-01",
                     "--out", str(tmp_path / "b.md"), env=env)
    assert result.returncode == 2 and "question 2, with the command line's filters" in result.stderr
    assert "ends (2019-01-01) before it starts (2020-01-01)" in result.stderr
    assert not (tmp_path / "b.md").exists()
    assert run_cli("audit", "--format", "jsonl", env=env).stdout == audit_before  # the first was not asked


def test_every_ask_is_in_the_audit_log_and_can_be_shown_again(env, tmp_path):
    asked = json.loads(run_cli("ask", "How many children were discharged from care in 2018?", "--json",
                               env=env).stdout)
    listing = run_cli("audit", env=env).stdout
    assert "How many children were discharged" in listing
    answer_id = listing.strip().splitlines()[-1].split()[0]
    shown = json.loads(run_cli("audit", "--show", answer_id, env=env).stdout)
    assert shown["answer"] == asked["answer"] and shown["citations"] == asked["citations"]
    assert shown["prompt_version"] and shown["retrieved"][0]["content_hash"]
    run_cli("audit", "--format", "csv", "--out", str(tmp_path / "audit.csv"), env=env)
    assert "How many children were discharged" in (tmp_path / "audit.csv").read_text()
    jsonl = run_cli("audit", "--format", "jsonl", env=env).stdout.splitlines()
    assert all("answer_id" in json.loads(line) for line in jsonl)


def test_an_export_never_writes_over_the_index_or_a_database(env, tmp_path):
    """`audit --out` replaces its file whole: given the audit log itself (or the manifest), it destroyed the only
    record of what was said."""
    data_dir = Path(env["ASSISTANT_DATA_DIR"])
    run_cli("ask", "How many children were discharged from care in 2018?", env=env)
    before = {name: (data_dir / name).read_bytes() for name in ("audit.sqlite", "manifest.sqlite")}
    for name in before:
        result = run_cli("audit", "--format", "csv", "--out", str(data_dir / name), env=env)
        assert result.returncode == 2 and "inside the index folder" in result.stderr and "Traceback" not in \
            result.stderr
    other = tmp_path / "elsewhere.db"
    other.write_bytes(before["audit.sqlite"])
    result = run_cli("audit", "--format", "jsonl", "--out", str(other), env=env)
    assert result.returncode == 2 and "is an SQLite database" in result.stderr
    assert {name: (data_dir / name).read_bytes() for name in before} == before
    assert other.read_bytes() == before["audit.sqlite"]
    earlier = tmp_path / "export.csv"
    earlier.write_text("an earlier export\n")
    assert run_cli("audit", "--format", "csv", "--out", str(earlier), env=env).returncode == 0  # replaced, as asked
    assert "answer_id" in earlier.read_text()


def test_show_writes_to_out_and_refuses_a_format(env, tmp_path):
    run_cli("ask", "How many children were discharged from care in 2018?", env=env)
    answer_id = run_cli("audit", env=env).stdout.strip().splitlines()[-1].split()[0]
    out = tmp_path / "shown.json"
    result = run_cli("audit", "--show", answer_id, "--out", str(out), env=env)
    assert result.returncode == 0 and json.loads(out.read_text())["answer_id"] == answer_id
    result = run_cli("audit", "--show", answer_id, "--format", "csv", env=env)
    assert result.returncode == 2 and "--format is for listings" in result.stderr


def test_a_damaged_audit_log_is_named_and_stats_never_writes_a_damaged_manifest(env, tmp_path):
    import shutil

    copy = tmp_path / "index"
    shutil.copytree(Path(env["ASSISTANT_DATA_DIR"]), copy)
    (copy / "audit.sqlite").write_bytes(b"\xff" * 8192)
    for leftover in ("audit.sqlite-wal", "audit.sqlite-shm"):
        (copy / leftover).unlink(missing_ok=True)
    result = run_cli("audit", "--index", str(copy), env=env)
    assert result.returncode == 2 and f"The audit log {copy / 'audit.sqlite'} is damaged" in result.stderr
    assert "The index itself is not affected" in result.stderr
    (copy / "manifest.sqlite").write_bytes(b"")
    for leftover in ("manifest.sqlite-wal", "manifest.sqlite-shm"):
        (copy / leftover).unlink(missing_ok=True)
    result = run_cli("stats", "--index", str(copy), env=env)
    assert result.returncode == 2 and "is empty or damaged" in result.stderr, result.stderr
    assert (copy / "manifest.sqlite").read_bytes() == b""  # stats wrote nothing into it


def test_user_add_writes_a_salted_slow_hash(env, tmp_path):
    users = tmp_path / "users.txt"
    result = run_cli("user", "add", "cllr.smith", "--file", str(users), env=env, input_text="correct horse battery\n")
    assert result.returncode == 0, result.stderr
    stored = read_users(users)["cllr.smith"]
    assert stored.startswith("pbkdf2_sha256$") and "correct horse" not in users.read_text()
    check = checker(users)
    assert check("cllr.smith", "correct horse battery") and not check("cllr.smith", "wrong password")
    assert not check("someone.else", "correct horse battery")
    short = run_cli("user", "add", "x", "--file", str(users), env=env, input_text="short\n")
    assert short.returncode == 2 and "too short" in short.stderr


def test_a_path_of_the_wrong_kind_gets_a_message_not_a_traceback(env, tmp_path):
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    result = run_cli("eval", "--questions", str(CORPUS.parent / "eval" / "questions.jsonl"),
                     "--out", str(a_file), env=env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"{a_file} is a file, not a folder, so it cannot be the --out folder" in result.stderr
    assert "how to fix: Give --out a folder" in result.stderr
    result = run_cli("user", "add", "carol", "--file", str(tmp_path), env=env, input_text="correct horse battery\n")
    assert result.returncode == 2 and f"{tmp_path}: Is a directory" in result.stderr


@pytest.mark.parametrize("damaged", ["manifest.sqlite", "chroma/chroma.sqlite3"])
def test_a_damaged_database_is_named_with_the_way_to_rebuild(env, tmp_path, damaged):
    import shutil

    from pathlib import Path

    copy = tmp_path / "index"
    shutil.copytree(Path(env["ASSISTANT_DATA_DIR"]), copy)
    with (copy / damaged).open("r+b") as handle:
        handle.write(b"\xff" * 4096)  # the SQLite header and first page
    result = run_cli("ask", "How many children were discharged from care in 2018?", env={
        **env, "ASSISTANT_DATA_DIR": str(copy)})
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    named = copy / "chroma" if damaged.startswith("chroma") else copy  # the store alone: the manifest is kept
    assert f" in {named} cannot be read" in result.stderr and "run `assistant ingest`" in result.stderr
    assert f"Move {named} aside" in result.stderr
    # Moving the whole folder aside loses the manifest's list of what is withheld: a backup keeps it.
    assert ("put it back instead" in result.stderr) == (damaged == "manifest.sqlite")


@pytest.mark.parametrize("port", ["99999", "0", "http"])
def test_a_port_out_of_range_is_refused_by_the_parser(env, port):
    result = run_cli("serve", "--port", port, env=env)
    assert result.returncode == 2 and f"'{port}' is not a port: give a number from 1 to 65535" in result.stderr


@pytest.mark.parametrize("args, message", [
    (("audit", "--limit", "0"), "'0' is not a count"), (("audit", "--limit", "-1"), "'-1' is not a count"),
    (("serve", "--corpus", "minutes", "--no-corpus"), "not allowed with argument --corpus"),
    (("audit", "--show", ""), "--show needs an answer id"),
    (("eval", "--questions", "q.jsonl", "--corpus"), "--corpus names no minutes"),
    (("eval", "--questions", "q.jsonl", "--corpus", "minutes", "--index", "idx"),
     "--corpus and --index cannot be given together"),
])
def test_flags_that_contradict_themselves_are_refused_by_the_parser(env, args, message):
    result = run_cli(*args, env=env)
    assert result.returncode == 2 and message in result.stderr


@pytest.mark.parametrize("args", [("ingest", "--index", ""), ("ingest", "corpus", " "), ("backup", ""),
                                  ("stats", "--index", ""), ("brief", "--questions", "q.txt", "--out", "")])
def test_an_empty_path_is_refused_not_read_as_the_folder_the_command_runs_in(env, tmp_path, args):
    # `--index "$DIR"` with DIR unset had built an index in the folder the command ran in; `backup ""` said ". exists".
    result = run_cli(*args, env=env, cwd=tmp_path)
    assert result.returncode == 2 and "an empty path: give a file or folder name" in result.stderr, result.stderr
    assert list(tmp_path.iterdir()) == []


def test_bytes_that_are_not_utf8_in_a_question_or_filter_are_read_not_crashed_on(env):
    # A Latin-1 terminal sends "£" as the byte 0xA3; Python passes it on as a lone surrogate.
    question = b"How many children left care in Rotherham in 2018? \xa3".decode("utf-8", "surrogateescape")
    result = run_cli("ask", question, env=env)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    result = run_cli("ask", "care leavers", "--council", b"Sef\xfeton".decode("utf-8", "surrogateescape"), env=env)
    assert result.returncode == 0 and "council: Sef\ufffdton" in result.stdout, result.stdout + result.stderr
    shown = run_cli("audit", "--format", "table", env=env)
    assert shown.returncode == 0 and "How many children left care in Rotherham in 2018? \ufffd" in shown.stdout


def test_fetch_takes_one_committee_a_flag_and_keeps_the_site_after_it(tmp_path):
    site = own_site()
    site.start()
    try:
        result = run_cli("fetch", "--council", "Testshire", "--since", WINDOW[0], "--until", WINDOW[1], "--json",
                         "--no-progress", "--committee", "102", "--committee", "Children's Services", site.base_url,
                         env=cli_env(tmp_path / "i", ASSISTANT_FETCH_RATE="0"))
    finally:
        site.stop()
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["committees"] == 2
    assert {r.params["lcommitteeid"] for r in site.seen("GetMeetings")} == {"101", "102"}


def _audit_rows(env) -> list[dict]:
    return [json.loads(line) for line in run_cli("audit", "--format", "jsonl", env=env).stdout.splitlines()]


def test_brief_finds_it_cannot_write_before_asking_and_names_the_file_given(env, tmp_path):
    questions = tmp_path / "q.txt"
    questions.write_text("How many children were discharged from care?\nWhat did Barnsley say about early help?\n")
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    before = len(_audit_rows(env))
    (tmp_path / "folder.md").mkdir()
    outs = [a_file / "briefing.md", tmp_path / "folder.md"]
    if Path("/proc/self").is_dir():
        outs.append(Path("/proc/briefing.md"))  # no file can be made there, even by root
    for out in outs:
        result = run_cli("brief", "--questions", str(questions), "--out", str(out), env=env)
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
        said = (f"error: {out} is a folder: a briefing is written to a file." if out.is_dir()
                else f"error: Cannot write the briefing to {out}: ")
        assert said in result.stderr and ".tmp" not in result.stderr, result.stderr
    assert len(_audit_rows(env)) == before  # nothing was asked


def test_brief_reads_questions_files_saved_with_a_byte_order_mark(env, tmp_path):
    bom = "\ufeff"
    line = json.dumps({"question": "How many children were discharged from care?", "council": "Rotherham"})
    for name, text, filtered in [("q.jsonl", line, True), ("json-line.txt", line, True),
                                 ("plain.txt", "How many children were discharged from care in 2018?", False)]:
        questions = tmp_path / name
        questions.write_text(bom + text + "\n", encoding="utf-8")
        out = tmp_path / f"{name}.md"
        result = run_cli("brief", "--questions", str(questions), "--out", str(out), env=env)
        assert result.returncode == 0, result.stderr
        assert re.fullmatch(rf"wrote {re.escape(str(out))} \(1 question: 1 answered\) in \d+\.\d s",
                            result.stdout.strip()), result.stdout
        briefing = out.read_text(encoding="utf-8")
        assert bom not in briefing and "## 1. How many children were discharged from care" in briefing
        assert ("Filters: council: Rotherham" in briefing) == filtered and "148" in briefing
        recorded = _audit_rows(env)[-1]
        assert recorded["question"].startswith("How many") and recorded["filters"] == (
            {"council": "Rotherham"} if filtered else {})


def test_a_misspelt_key_in_a_questions_line_is_refused_with_the_keys_there_are(env, tmp_path):
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"question": "How many children left care?"}) + "\n"
                         + json.dumps({"question": "How many children left care?", "counsil": "Rotherham"}) + "\n")
    before = len(_audit_rows(env))
    result = run_cli("brief", "--questions", str(questions), "--out", str(tmp_path / "b.md"), env=env)
    assert result.returncode == 2 and f"error: {questions}:2 has the unknown key 'counsil'." in result.stderr
    assert "question, council, committee, since, until" in result.stderr
    assert not (tmp_path / "b.md").exists() and len(_audit_rows(env)) == before


def test_brief_shows_its_progress_on_a_terminal_and_ctrl_c_writes_nothing(env, tmp_path):
    import fcntl
    import os
    import pty
    import re
    import select
    import signal
    import struct
    import subprocess
    import sys
    import termios
    import time

    questions = tmp_path / "many.txt"
    questions.write_text("".join(f"What did council number {n} say about fostering allowances?\n"
                                 for n in range(3000)))
    before = len(_audit_rows(env))
    terminal, its_end = pty.openpty()
    # A new terminal is 0 columns wide until told otherwise, and tqdm draws nothing in no width.
    fcntl.ioctl(its_end, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))
    brief = subprocess.Popen([sys.executable, "-m", "assistant", "brief", "--questions", str(questions),
                              "--out", str(tmp_path / "b.md")], env=env, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=its_end)
    os.close(its_end)
    shown = b""

    # poll, not select: after the rest of the suite this process may hold more than select's 1,024 descriptors.
    waiting = select.poll()
    waiting.register(terminal, select.POLLIN)

    def read_for(seconds: float, until=None) -> None:
        nonlocal shown
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not (until and re.search(until, shown)):
            if waiting.poll(200):
                try:
                    shown += os.read(terminal, 65536)
                except OSError:  # the child has gone and the terminal with it
                    return

    try:
        read_for(300, until=rb"Asking: .*\b[1-9]\d*/3000 ")
        assert re.search(rb"Asking: .*\b[1-9]\d*/3000 ", shown), shown[-2000:]
        brief.send_signal(signal.SIGINT)
        # Read on until it exits, so that its last writes to the terminal can never wait on a full buffer.
        deadline = time.monotonic() + 240
        while brief.poll() is None and time.monotonic() < deadline:
            read_for(0.5)
        read_for(1)
        assert brief.wait(timeout=1) == 130
    finally:
        if brief.poll() is None:
            brief.kill()
        os.close(terminal)
    said = re.search(rb"interrupted after answering (\d+) of 3000 questions: nothing was written to (\S+)\.",
                     shown)
    assert said and said.group(2).decode() == str(tmp_path / "b.md"), shown[-2000:]
    # The command to list the answers names the index they went to (here, the one ASSISTANT_DATA_DIR names).
    assert f"assistant audit --index {env['ASSISTANT_DATA_DIR']} --limit".encode() in shown
    assert b"Traceback" not in shown
    assert sorted(p.name for p in tmp_path.iterdir()) == ["many.txt"]
    # The question being answered at Ctrl-C may or may not have been recorded.
    assert len(_audit_rows(env)) - before in (int(said.group(1)), int(said.group(1)) + 1)

    quiet = subprocess.run([sys.executable, "-m", "assistant", "brief", "--questions", str(questions), "--out",
                            "/dev/null", "--no-progress", "--council", "nowhere"], env=env, capture_output=True)
    assert b"Asking" not in quiet.stderr


def test_stats_counts_one_item_as_one(env):
    result = run_cli("stats", env=env)
    assert result.returncode == 0 and "1 items" not in result.stdout
    assert any(row.split()[-4:] == ["1", "item", "5", "chunks"] for row in result.stdout.splitlines()), result.stdout


def _entry(question: str, filters: str, link: str):
    from assistant.present.briefing import BriefingEntry
    from assistant.records import Citation

    source = Citation(1, "item-1", "Sefton Council", "Cabinet", "2019-01-01", "Fostering", "Allowances rose.",
                      "chunk-1", link)
    return BriefingEntry(question, (("Allowances rose.", (1,)),), (source,), False, filters)


def test_a_briefing_writes_source_addresses_that_survive_copying(tmp_path):
    import markdown_it

    from assistant.present.briefing import write_briefing

    url = "https://democracy.sefton.gov.uk/mgIssueHistoryHome.aspx?IId=53893&Opt=3"
    out = write_briefing([_entry("What did *Sefton* say?", "none", url)], tmp_path / "b.md")
    text = out.read_text(encoding="utf-8")
    assert f"<{url}>" in text and "\\&" not in text and "What did \\*Sefton\\* say?" in text
    html = markdown_it.MarkdownIt("commonmark").render(text)
    assert f'<a href="{url.replace("&", "&amp;")}">' in html
    out = write_briefing([_entry("What did Sefton say?", "none", url)], tmp_path / "b.docx")
    document = Document(out)
    links = [r.target_ref for r in document.part.rels.values() if r.reltype.endswith("/hyperlink")]
    assert links == [url] and any(p.text.endswith(url) for p in document.paragraphs)


def test_the_briefing_header_says_which_filters_each_question_was_asked_with(tmp_path):
    from assistant.present.briefing import write_briefing

    own = _entry("What did Rotherham say?", "council: Rotherham", "")
    common = _entry("What did Sefton say?", "council: Sefton", "")
    text = write_briefing([own, common], tmp_path / "b.md", filters="council: Sefton").read_text(encoding="utf-8")
    assert ("Filters: council: Sefton for every question, with a question line's own merged in (shown under each "
            "question)" in text)
    assert "## 1. What did Rotherham say?\n\n_Filters: council: Rotherham_" in text
    assert "## 2. What did Sefton say?\n\n_Filters: council: Sefton_" in text
    same = write_briefing([common, common], tmp_path / "c.md", filters="council: Sefton").read_text(encoding="utf-8")
    assert "Filters: council: Sefton\n" in same and "_Filters" not in same
    # Every line gave its own council, merged with the command's date: the header names what was used.
    bristol = _entry("What did Bristol say?", "council: Bristol; since: 2020", "")
    merged = write_briefing([bristol, bristol], tmp_path / "d.md", filters="since: 2020").read_text(encoding="utf-8")
    assert "Filters: council: Bristol; since: 2020\n" in merged
    document = Document(write_briefing([own, common], tmp_path / "b.docx", filters="council: Sefton"))
    paragraphs = [p.text for p in document.paragraphs]
    assert "Filters: council: Rotherham" in paragraphs and "Filters: council: Sefton" in paragraphs


def test_ingest_gives_pdf_minutes_the_council_and_committee_named_on_the_command_line(tmp_path):
    from fixtures_make import make_pdf

    folder = tmp_path / "pdfs"
    folder.mkdir()
    make_pdf(folder / "scrutiny.pdf", ["Children's Scrutiny Committee", "Members noted 412 children in care."])
    env = cli_env(tmp_path / "index")
    done = run_cli("ingest", str(folder), "--council", "Barnsley Metropolitan Borough Council", "--committee",
                   "Children's Scrutiny", "--no-progress", env=env)
    assert done.returncode == 0, done.stderr
    stats = json.loads(run_cli("stats", "--json", env=env).stdout)
    assert stats["by_council"] == {"Barnsley Metropolitan Borough Council": {"items": 1, "chunks": stats["chunks"]}}
    assert list(stats["by_committee"]) == ["Children's Scrutiny"]
    asked = json.loads(run_cli("ask", "How many children were in care?", "--council", "Barnsley", "--json",
                               env=env).stdout)
    assert asked["refusal_reason"] != "no_match_filters" and asked["retrieved"]


def test_an_interrupted_briefing_counts_only_the_answers_it_recorded(fake_settings, tmp_path, monkeypatch):
    """The count given for `audit --limit` is of the answers recorded before Ctrl-C (small talk, which is never
    audited, is refused when the file is read: see test_briefing_more)."""
    from assistant.answer.service import Assistant
    from assistant.ingest.run import ingest
    from assistant.present.briefing import BriefingInterrupted, make_briefing

    ingest([CORPUS], fake_settings, progress=False)
    questions = tmp_path / "q.txt"
    questions.write_text("What did Barnsley say about early help?\nHow many children were discharged from care in "
                         "2018?\nA third question?\n")
    # A briefing asks through Assistant.stream, so that Ctrl-C can stop a language model's reply part-way.
    real_stream, calls = Assistant.stream, []

    def stream_until_ctrl_c(self, *args, **kwargs):
        calls.append(args)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_stream(self, *args, **kwargs)

    monkeypatch.setattr(Assistant, "stream", stream_until_ctrl_c)
    with pytest.raises(BriefingInterrupted) as stopped:
        make_briefing(questions, tmp_path / "b.md", fake_settings, progress=False)
    assert (stopped.value.recorded, stopped.value.asked, stopped.value.total) == (2, 2, 3)
    assert not (tmp_path / "b.md").exists()


def test_a_plain_answer_never_prints_control_characters_from_a_source():
    """A file named 'esc\\x1b[31mRED.md' coloured the terminal `ask` printed its source to."""
    from assistant.present.render import answer_as_text
    from assistant.records import Answer, Citation, SentenceVerdict

    citation = Citation(1, "file:esc\x1b[31mRED.md", "Dale Council", "Panel\x07", "2024-01-01", "Care\x9b2J",
                        "Twelve appeals were heard.", "c1")
    answer = Answer("How many appeals?", "Twelve appeals were heard. [1]", False, None, "extractive",
                    citations=[citation], sentences=[SentenceVerdict("Twelve appeals were heard. [1]", (1,), True,
                                                                     True, 1.0, "verbatim")])
    printed = answer_as_text(answer)
    assert "file:esc[31mRED.md" in printed and "Twelve appeals were heard." in printed
    assert not any(ch in printed for ch in "\x1b\x07\x9b")


def test_a_source_with_no_web_address_is_labelled_as_a_briefing_labels_it():
    """`ask` printed Rotherham's item id where a URL goes, and a refusal's nearest item as '<rotherham-2018-...>', a
    link in all but name; the briefing labels it "(no web address; source: ...)"."""
    from assistant.present.render import answer_as_text
    from assistant.records import Answer, Citation, NearestItem, SentenceVerdict

    item, url = "rotherham-2018-ilsc-performance-feedback", "https://example.org/mgAi.aspx?ID=1"
    cited = Answer("How many left care?", "In 2018 148 children have been discharged. [1]", False, None, "extractive",
                   citations=[Citation(1, item, "Rotherham Council", "", "2018", "Feedback",
                                       "In 2018 148 children have been discharged.", "c1")],
                   sentences=[SentenceVerdict("In 2018 148 children have been discharged. [1]", (1,), True, True, 1.0,
                                              "verbatim")])
    assert f"\n      (no web address; source: {item})\n" in answer_as_text(cited)
    refused = Answer("How many adopted?", "The minutes in the index do not say this.", True, "not_stated",
                     "extractive", nearest=[NearestItem(item, "Rotherham Council", "", "2018", "Feedback"),
                                            NearestItem(url, "Dale Council", "", "2019", "Fostering")])
    printed = answer_as_text(refused)
    assert f"Feedback (no web address; source: {item})\n" in printed and f"<{item}>" not in printed
    assert printed.endswith(f"Fostering <{url}>")


@pytest.mark.parametrize("failure", ["sqlite", "chroma"])
def test_a_full_disk_is_named_as_such_not_as_another_writer_or_a_traceback(tmp_path, monkeypatch, capsys, failure):
    """On a full disk SQLite says "disk I/O error" and Chroma an internal error: the CLI had said to wait for another
    ingest, or shown Chroma's traceback."""
    import shutil
    import sqlite3
    from collections import namedtuple

    from chromadb.errors import InternalError

    import assistant.ingest.run as run
    from assistant.present import cli

    error = (sqlite3.OperationalError("disk I/O error") if failure == "sqlite"
             else InternalError("Error in compaction: Failed to apply logs to the metadata segment"))

    def failing_ingest(*args, **kwargs):
        raise error

    monkeypatch.setattr(run, "ingest", failing_ingest)
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "index"))
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10 << 30, 10 << 30, 4096))
    assert cli.main(["ingest", str(tmp_path)]) == 2
    said = capsys.readouterr().err
    assert "The disk is full: free some space and try again." in said and "Traceback" not in said, said
    # With room on the disk, the same errors are not put down to it.
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10 << 30, 1 << 30, 9 << 30))
    if failure == "sqlite":
        assert cli.main(["ingest", str(tmp_path)]) == 2
        assert "Another ingest or fetch may be writing to it" in capsys.readouterr().err
    else:  # a failure of the store that is not a known one gets a message of its own (no traceback, no full disk)
        assert cli.main(["ingest", str(tmp_path)]) == 2
        said = capsys.readouterr().err
        assert "failed (InternalError: Error in compaction" in said and "The disk is full" not in said, said


def test_brief_says_where_it_wrote_in_full_and_refuses_a_folder_a_word_97_name_or_the_index_folder(env, tmp_path):
    """The last line gave the path as typed (relative: found later from another folder by nobody), without the
    refusals or the time; a folder as --out was "Cannot write a briefing as ro."; a briefing could be written into
    the index folder, which goes when the index is emptied."""
    from pathlib import Path

    questions = tmp_path / "q.txt"
    questions.write_text("How many children were discharged from care in Rotherham in 2018?\n"
                         "How many dragons did Rotherham's panel count in 1750?\n", encoding="utf-8")
    result = run_cli("brief", "--questions", str(questions), "--out", "b.md", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(rf"wrote {re.escape(str(tmp_path / 'b.md'))} \(2 questions: 1 answered, 1 the minutes do not "
                        r"answer\) in \d+\.\d s", result.stdout.strip()), result.stdout
    (tmp_path / "out").mkdir()
    for out, said, hint in [("out", f"{tmp_path / 'out'} is a folder", f"{tmp_path / 'out' / 'briefing.docx'}"),
                            ("b.doc", "Cannot write a briefing as 'b.doc'", "such as b.docx"),
                            (str(Path(env["ASSISTANT_DATA_DIR"]) / "b.md"), "is inside the index folder",
                             "outside the index folder")]:
        refused = run_cli("brief", "--questions", str(questions), "--out", str(tmp_path / out), env=env)
        assert refused.returncode == 2 and said in refused.stderr and hint in refused.stderr, refused.stderr
    assert not (Path(env["ASSISTANT_DATA_DIR"]) / "b.md").exists()


def test_a_vector_store_stopped_by_a_file_size_limit_gets_a_message_and_a_second_run_finishes(tmp_path):
    # An operator's ingest under a file-size limit (or a quota) ended in Chroma's own traceback, "InternalError: Error
    # in compaction: Failed to apply logs to the metadata segment", which says nothing of what to do.
    import resource
    import subprocess
    import sys

    def limited() -> None:  # Python ignores SIGXFSZ, so a write past the limit fails rather than killing the process
        resource.setrlimit(resource.RLIMIT_FSIZE, (400 * 1024, resource.RLIM_INFINITY))

    env = cli_env(tmp_path / "index")
    stopped = subprocess.run([sys.executable, "-m", "assistant", "ingest", str(CORPUS), "--no-progress"], env=env,
                             capture_output=True, text=True, timeout=300, preexec_fn=limited)
    assert stopped.returncode == 2 and "Traceback" not in stopped.stderr, stopped.stderr
    assert f"The vector store in {tmp_path / 'index' / 'chroma'} failed (InternalError: " in stopped.stderr
    assert "Run the same command again" in stopped.stderr and "file-size limit (`ulimit -f`)" in stopped.stderr
    assert run_cli("ingest", str(CORPUS), "--no-progress", env=env).returncode == 0
    assert json.loads(run_cli("stats", "--json", env=env).stdout)["items"] == 5
