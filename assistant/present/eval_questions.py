"""Question and support-pair files of the grounding evaluation: read, and every line checked before anything is
asked (see eval/README.md for their format)."""

from __future__ import annotations

import difflib
import json
import sys
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Iterable, Iterator

from assistant.errors import AssistantError
from assistant.files import read_utf8
from assistant.retrieve.filters import Filters
from assistant.text import counted, is_small_talk, one_printed_line, printed_path, readable

KINDS = ("fact", "numeric", "who", "resolution", "multi", "unanswerable")


REQUIRED_KEYS = ("id", "question", "kind")


LIST_KEYS = ("gold_urls", "must_include")


FILTER_KEYS = tuple(f.name for f in fields(Filters))


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    question: str
    kind: str
    gold_urls: tuple[str, ...]
    must_include: tuple[str, ...]
    filters: dict

    @property
    def answerable(self) -> bool:
        return self.kind != "unanswerable"

    @classmethod
    def from_row(cls, row) -> "EvalQuestion":
        """A question line's record, checked once here: KeyError names a missing key, ValueError (or the filters'
        AssistantError) says what else is wrong. Unknown top-level keys ("notes") are allowed."""
        from assistant.verify.guard import strip_markers

        if not isinstance(row, dict):
            raise ValueError("not a JSON object")
        for key in REQUIRED_KEYS:
            if key not in row:
                raise KeyError(key)
        ident = row["id"]
        if isinstance(ident, int) and not isinstance(ident, bool):
            ident = str(ident)  # an id written as a number is read as its text
        question = row["question"]
        for key, value in (("id", ident), ("question", question)):
            if not isinstance(value, str):
                raise ValueError(f"the {key} must be text, not {as_json(value)}")
            if not value.strip():
                raise ValueError(f"the {key} is blank")
        if ident != ident.strip():
            # Answers are matched by id (scripts/compare_answers.py): "q1 " would read as a question other than "q1".
            raise ValueError(f"the id {as_json(ident)} has spaces around it: write it as {as_json(ident.strip())}")
        kind = row["kind"]
        if not isinstance(kind, str) or kind.strip().lower() not in KINDS:
            raise ValueError(f"the kind must be one of {', '.join(KINDS)}, not {as_json(kind)}")
        lists = {}
        for key in LIST_KEYS:
            value = [] if row.get(key) is None else row[key]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError(f"{' and '.join(LIST_KEYS)} must be lists of strings: {key} is {as_json(value)}")
            lists[key] = tuple(v for v in value if v.strip())
        if marker := next((v for v in lists["must_include"] if not strip_markers(v)[0].strip()), None):
            # Scored without its citation markers, as the answer is: nothing would be left, which every answer holds.
            raise ValueError(f"the must_include string {as_json(marker)} is only a citation marker, which every "
                             "answer would hold: give the words or figure a right answer contains")
        filters = {} if row.get("filters") is None else row["filters"]
        if not isinstance(filters, dict):
            raise ValueError(f"filters must be a JSON object with some of {', '.join(FILTER_KEYS)}, "
                             f"not {as_json(filters)}")
        unknown = [key for key in filters if key not in FILTER_KEYS]
        if unknown:
            raise ValueError(f"filters has the unknown key {unknown[0]!r}; "
                             f"the filter keys are {', '.join(FILTER_KEYS)}")
        if blank := next((key for key, value in filters.items() if isinstance(value, str) and not value.strip()),
                         None):
            # A blank filter is no filter: the question would be asked of all the minutes, not those it was meant for.
            raise ValueError(f"the filter {blank} is blank: give it a value, or leave the key out")
        Filters(**filters)
        return cls(ident, question, kind.strip().lower(), lists["gold_urls"], lists["must_include"], dict(filters))


def misspelt_keys(row: dict) -> dict[str, str]:
    """Unknown top-level keys that look like a misspelt known one ("filter", "must_inclde"), with the key each
    probably means. Other unknown keys ("notes") are allowed and pass silently."""
    known = (*REQUIRED_KEYS, *LIST_KEYS, "filters")
    misspelt = {}
    for key in row:
        if key not in known and (close := difflib.get_close_matches(str(key), known, n=1, cutoff=0.75)):
            misspelt[key] = close[0]
    return misspelt


def as_json(value) -> str:
    """A value of a JSON line as the file writes it (null, true, "text"), not as Python prints it (None, True)."""
    return json.dumps(value, ensure_ascii=False)


def questions_text(path: Path, what: str = "the questions file") -> str:
    """A questions (or pairs) file's text, decoded as `ingest` decodes a text file (ingest.readers.text.decode_bytes):
    a byte order mark (UTF-8, or the UTF-16 Windows PowerShell writes), else UTF-8, else Windows-1252 (Notepad's
    "ANSI", with Word's curly quotes), so that a file saved on a council desktop is read, by `eval` as by `brief`."""
    from assistant.ingest.readers.common import Problem
    from assistant.ingest.readers.text import decode_bytes

    where = printed_path(path)  # as messages name it: a file's name may hold a line break or an escape
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AssistantError(f"Cannot read {what} {where}: {exc.strerror or exc}.",
                             "Check that it may be read (its permissions), or give another file.") from None
    if kind := _document_kind(data):
        # Its bytes would be read as text with a stray byte: "retype the character" would be no help.
        raise AssistantError(f"{where} is {kind}, not a text file, so it cannot be read as {what}.",
                             f"Save {what} as plain text: in Word, Save As › Plain Text (.txt), one question a "
                             "line; in Excel, Save As › CSV (UTF-8), with a column headed question.")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # UTF-8 with a stray byte (a '£' pasted from a Windows program): read whole as Windows-1252, its '£1.2m'
        # would read 'Â£1.2m', which no answer holds. Only a file with no UTF-8 character in it is read so.
        utf16 = data[:2] in (b"\xff\xfe", b"\xfe\xff")  # its byte order mark says what it is
        if not utf16 and any(ord(ch) > 0x7F and ch != "\ufffd" for ch in data.decode("utf-8", errors="replace")):
            line = data.count(b"\n", 0, exc.start) + 1
            raise AssistantError(f"{where} is UTF-8 text but for byte {exc.start} (0x{data[exc.start]:02X}, on line "
                                 f"{line}), which is not: part of the file was saved in another encoding.",
                                 f"Retype the character there and save {what} as UTF-8.") from None
    try:
        return decode_bytes(data)
    except Problem as problem:
        raise AssistantError(f"{where} cannot be read as text: {problem.reason}.",
                             f"Save {what} as UTF-8 text (most editors offer it under 'Save as' or "
                             "'Encoding').") from None


# How the files officers most often give by mistake begin: a Word or Excel file of today (a ZIP package), one of
# before 2007 (an OLE compound file), a PDF.
_DOCUMENT_STARTS = ((b"PK\x03\x04", "a Word or Excel document (or another ZIP file)"),
                    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a Word or Excel document of before 2007"),
                    (b"%PDF-", "a PDF"))


def _document_kind(data: bytes) -> str:
    return next((kind for start, kind in _DOCUMENT_STARTS if data.startswith(start)), "")


def json_lines(path: Path, what: str) -> Iterator[tuple[int, str]]:
    """Each line of a questions file (JSON lines, or `brief`'s plain questions) with its number, skipping blank lines
    and # comments. A byte order mark at the start of a line, which Windows tools write at the start of a file, is
    dropped: files joined with `cat` have one at the start of each. Lines come otherwise as written, for parse_line
    to count columns."""
    # Lines end at "\n" (and a Windows or old Mac "\r\n" or "\r", which JSON keeps out of strings) only:
    # json.dumps(..., ensure_ascii=False) writes U+2028, U+2029 and U+0085 raw inside strings, and str.splitlines()
    # would break a line there.
    text = questions_text(path, what).replace("\r\n", "\n").replace("\r", "\n")
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.removeprefix("\ufeff")
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            yield number, line


def parse_line(line: str):
    """One JSON line's value. ValueError says what is wrong: bad JSON (at its column in the line as written), or a
    key given twice in one object. A lone surrogate escape ("\\ud800") is read as a replacement character, as
    `brief` reads one."""
    stripped = line.strip()
    try:
        value = json.loads(stripped, object_pairs_hook=_object_with_keys_once)
    except json.JSONDecodeError as exc:
        # json counts lines and columns within the text it was given: one line here, so only the column helps,
        # counted from the start of the line as an editor shows it. Some of json's messages end in "at" already.
        column = exc.colno + len(line) - len(line.lstrip())
        raise ValueError(f"not valid JSON: {exc.msg.removesuffix(' at')} at column {column}") from None
    except RecursionError:
        # Brackets nested a thousand deep or so (a value pasted over and over): json gives up on them with a
        # RecursionError, which had ended `eval` (and `brief`) in a traceback with the status of a broken floor.
        raise ValueError("not valid JSON here: its brackets are nested too deeply to read") from None
    return _readable_strings(value)


def _object_with_keys_once(pairs: list[tuple[str, object]]) -> dict:
    """A JSON object, failing on a key given twice: json would keep the last value and drop the first unseen."""
    fields: dict = {}
    for key, value in pairs:
        if key in fields:
            raise ValueError(f"the key {key!r} is given twice")
        fields[key] = value
    return fields


def _readable_strings(value):
    """The value with every string made `readable`: lone surrogates, which neither the tokenizer nor a UTF-8 file can
    take, become replacement characters."""
    if isinstance(value, str):
        return readable(value)
    if isinstance(value, list):
        return [_readable_strings(v) for v in value]
    if isinstance(value, dict):
        return {readable(k): _readable_strings(v) for k, v in value.items()}
    return value


def check_regular_file(path: Path, flag: str, what: str) -> None:
    """Refuse a `path` that is missing, a folder, or not a regular file (a pipe such as /dev/stdin, a device)."""
    if path.is_dir():
        raise AssistantError(f"{path} is a folder, not a {what}.", f"Give {flag} a JSONL file.")
    if not path.exists():
        raise AssistantError(f"No {what} at {path}.", f"Check the path given to {flag}.")
    if not path.is_file():
        # The report names the file as the run's record of what was asked: a pipe names nothing to read again.
        raise AssistantError(f"{path} is not a regular file but a pipe or a device, so it is not read as a {what}.",
                             f"Save its contents to a file and give {flag} that file's path.")


def lacking_gold(questions: list[EvalQuestion]) -> dict[str, int]:
    """How many answerable questions have no gold_urls, and how many no must_include."""
    answerable = [q for q in questions if q.answerable]
    return {key: sum(not getattr(q, key) for q in answerable) for key in LIST_KEYS}


def describe_lacking(lacking: dict[str, int]) -> str:
    """The counts of lacking_gold in words, with the metrics each is left out of."""
    what = {"gold_urls": "retrieval and cited-source metrics",
            "must_include": "answer correctness and the reader's top-1"}
    return "; ".join(f"{counted(n, 'answerable question')} without {key}, not counted in {what[key]}"
                     for key, n in lacking.items() if n)


def unanswerable_with_gold(questions: list[EvalQuestion]) -> list[str]:
    """The ids of unanswerable questions that have gold_urls or must_include, which eval/README.md says such a
    question leaves empty: a mislabelled kind, most often, which the scoring cannot see."""
    return [q.id for q in questions if not q.answerable and (q.gold_urls or q.must_include)]


def warn(message: str) -> None:
    # One line, safe to print: a warning names the questions file and ids from it, and an escape sequence in either
    # would drive the terminal (errors are printed so by the CLI already).
    print(f"warning: {one_printed_line(message)}", file=sys.stderr, flush=True)


def load_questions(path: Path) -> list[EvalQuestion]:
    """Every question of the file, each line checked and ids unique, before any is asked."""
    from assistant.answer.service import question_problem

    check_regular_file(path, "--questions", "questions file")
    questions = []
    first_line: dict[str, int] = {}
    by_folded_id: dict[str, str] = {}  # the first id of each as casefolded
    for number, line in json_lines(path, "the questions file"):
        try:
            row = parse_line(line)
            question = EvalQuestion.from_row(row)
        except KeyError as exc:
            raise AssistantError(f"{path}:{number} is not a valid question record: it has no {exc} key.",
                                 "See eval/README.md for the format.") from None
        except (ValueError, TypeError, AssistantError) as exc:
            raise AssistantError(f"{path}:{number} is not a valid question record ({exc}).",
                                 "See eval/README.md for the format.") from None
        # A question `ask` would not take (no words, too long) is a mistake in the file, not a refusal to score;
        # small talk is left to the assistant, whose answer to it is what is measured.
        if (problem := question_problem(question.question)) and not is_small_talk(question.question):
            raise AssistantError(f"{path}:{number} holds a question that cannot be asked: {problem}",
                                 "Fix the question on that line.")
        for key, meant in misspelt_keys(row).items():
            warn(f"{path}:{number} has the key {key!r}, which is not read: did you mean {meant!r}?")
        if question.id in first_line:
            raise AssistantError(f"{path}:{number} repeats the id {question.id!r} of line {first_line[question.id]}.",
                                 "Give every question an id of its own: answers are scored by their question's id.")
        if (alike := by_folded_id.get(question.id.casefold())) is not None:
            warn(f"{path}:{number} has the id {question.id!r}, which differs from {alike!r} of line "
                 f"{first_line[alike]} only in letter case: answers are matched by their id as written "
                 "(scripts/compare_answers.py), so give one of them another id, or keep each one's case from run to "
                 "run.")
        first_line[question.id] = number
        by_folded_id.setdefault(question.id.casefold(), question.id)
        questions.append(question)
    if not questions:
        raise AssistantError(f"{path} holds no questions.", "Give a file of JSON lines, one question each.")
    return questions


def source_texts(paths: Iterable[Path], max_item_chars: int) -> dict[str, dict]:
    """Every item's text and metadata as read from the input files (not from the index)."""
    from assistant.ingest.readers import read_inputs
    from assistant.records import MinuteItem

    texts: dict[str, dict] = {}
    for found in read_inputs(list(paths), max_item_chars):
        if isinstance(found, MinuteItem) and not found.restricted:
            texts[found.source_id] = {"text": found.text, "council": found.council, "committee": found.committee,
                                      "meeting_date": found.meeting_date, "item_title": found.item_title,
                                      "period": found.period}
    return texts


# The floors the gate holds the fixed question files to (tests/present/test_eval_gate.py), in a checkout.
FLOORS_FILE = Path(__file__).resolve().parents[2] / "eval" / "floors.json"


# An entry of the floors file may name the file its figures were measured on, as a path from the project's top
# folder (the one above the floors file's): floors set on one question file say nothing of another's figures.
FLOOR_INPUTS = ("_questions", "_pairs")


def load_floors(names: Iterable[str], path: Path = FLOORS_FILE) -> dict[str, dict]:
    """The entries of the floors file that --floors names, each bound checked, before any question is asked; the
    files an entry names (FLOOR_INPUTS) are given as paths."""
    if not path.is_file():
        raise AssistantError(f"--floors reads {path}, which is not there.",
                             "Run the evaluation from a checkout of the project, which holds eval/floors.json.")
    try:
        entries = json.loads(read_utf8(path, "the floors file"))
    except ValueError as exc:
        raise AssistantError(f"{path} is not valid JSON ({exc}).", "Fix the file, or restore it from git.") from None
    known = [name for name in entries if not name.startswith("_")]  # "_comment"
    chosen = {}
    for name in names:
        if name not in known:
            raise AssistantError(f"{path} has no floors named {name!r}.", f"Give --floors one of {', '.join(known)}.")
        entry = entries[name]
        bounds = {k: v for k, v in entry.items() if k not in FLOOR_INPUTS} if isinstance(entry, dict) else None
        if bounds is None or not all(
                isinstance(b, dict) and b and set(b) <= {"min", "max"}
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in b.values())
                for b in bounds.values()) or not all(isinstance(entry[k], str) for k in FLOOR_INPUTS if k in entry):
            raise AssistantError(f"The floors {name!r} of {path} are not of the form "
                                 '{"figure": {"min": number} or {"max": number}, ...}, with "_questions" and '
                                 '"_pairs", when given, a file\'s path.', "Fix that entry.")
        chosen[name] = {**bounds, **{k: path.parent.parent / entry[k] for k in FLOOR_INPUTS if k in entry}}
    return chosen


PAIR_KEYS = ("id", "source_url", "start", "end", "sentence", "supported")


PAIR_TEXT_KEYS = ("id", "source_url", "sentence")


def load_pairs(path: Path) -> list[dict]:
    """Labelled support pairs for `--pairs`, every field checked and ids unique, before any question is asked."""
    check_regular_file(path, "--pairs", "support pairs file")
    pairs = []
    first_line: dict[str, int] = {}
    fix_line = "Fix that line (see eval/README.md)."
    for number, line in json_lines(path, "the pairs file"):
        try:
            pair, problem = parse_line(line), ""
        except ValueError as exc:
            reason = str(exc)
            pair, problem = None, f" {reason[:1].upper()}{reason[1:]}."  # "Not valid JSON: ... at column 12."
        if not isinstance(pair, dict) or any(key not in pair for key in PAIR_KEYS):
            lacking = [key for key in PAIR_KEYS if key not in pair] if isinstance(pair, dict) else []
            raise AssistantError(f"{path}:{number} is not a support pair"
                                 + (f": it has no {', '.join(lacking)}." if lacking else "." + problem),
                                 f"Each line is a JSON object with {', '.join(PAIR_KEYS)} (see eval/README.md).")
        if type(pair["id"]) is int:
            pair["id"] = str(pair["id"])  # as a question's id written as a number
        for key in PAIR_TEXT_KEYS:
            if not isinstance(pair[key], str) or not pair[key].strip():
                raise AssistantError(f"{path}:{number}: the pair's {key} must be text that is not blank, not "
                                     f"{as_json(pair[key])}.", fix_line)
        if not isinstance(pair.get("kind", ""), str):
            raise AssistantError(f"{path}:{number}: the pair's kind must be text (paraphrase, changed_figure, ...), "
                                 f"not {as_json(pair['kind'])}.", fix_line)
        span, supported = (pair["start"], pair["end"]), pair["supported"]
        if not (all(type(n) is int and n >= 0 for n in span) and span[0] < span[1] and type(supported) is bool):
            raise AssistantError(f"{path}:{number}: start and end must be character offsets with start < end, and "
                                 "supported true or false.", fix_line)
        if pair["id"] in first_line:
            raise AssistantError(f"{path}:{number} repeats the pair id {pair['id']!r} of line "
                                 f"{first_line[pair['id']]}.", "Give every pair an id of its own.")
        first_line[pair["id"]] = number
        pairs.append(pair)
    if not pairs:
        raise AssistantError(f"{path} holds no support pairs.", "Give a file of JSON lines, one pair each.")
    return pairs
