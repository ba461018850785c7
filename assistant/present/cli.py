"""The `assistant` command: a thin shell over the library's public functions."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import string
import sys
from pathlib import Path

from assistant.errors import PUT_BACK_A_BACKUP, AssistantError, ConfigError
from assistant.files import is_sqlite_database, refuse_link, writable_by_this_user_alone, write_atomically
from assistant.settings import DEFAULT_CORPUS, Settings, unknown_settings
from assistant.text import counted, noun_for, one_printed_line, printed_path, readable

# --mentioning or --erase-mentioning given without words, or with -: they are read from standard input.
WORDS_FROM_INPUT = "-"
_WORDS_HELP = ("Without WORDS (or with -), they are read from standard input, typed at a prompt or from a file "
               "(< name.txt), so that they stay out of the shell's history and `ps`")


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors also go to standard output as the JSON error object when --json is
    given, as every other error does; standard error and the exit status (2) are argparse's own."""

    json_errors = False

    def error(self, message: str):
        if self.json_errors:
            print(json.dumps({"error": readable(message), "hint": f"See `{self.prog} --help`."}, ensure_ascii=False,
                             indent=2))
        super().error(message)


def main(argv: list[str] | None = None) -> int:
    # Only the exact flag: the arguments are not parsed yet.
    argv = sys.argv[1:] if argv is None else argv
    parser = _parser(json_errors="--json" in argv)
    args = _parse(parser, argv)
    for name, value in vars(args).items():
        # Bytes the terminal sent that are not UTF-8 reach Python as lone surrogates, which the tokenizer and
        # the audit log cannot take: in text they become U+FFFD. Paths (and --llm, which may hold one) are left
        # alone, to name the files they name.
        if name == "llm":
            continue
        if isinstance(value, str):
            setattr(args, name, readable(value))
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            setattr(args, name, [readable(v) for v in value])
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    writable_by_this_user_alone()  # before anything is made: the data folder, exports, a briefing
    as_json = bool(getattr(args, "json", False))  # a script reading --json output gets its errors there too
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    settings = None
    try:
        # --llm is checked here, as ASSISTANT_LLM is, before anything is loaded or served.
        settings = Settings.from_env(data_dir=getattr(args, "index", None), llm=getattr(args, "llm", None))
        for name, meant in unknown_settings(os.environ):
            print(f"warning: {name} is not a setting of the assistant, so it changes nothing"
                  + (f": did you mean {meant}?" if meant else "."), file=sys.stderr)
        uses_index = args.command != "user" and not (args.command == "eval" and args.corpus)
        if uses_index and settings.data_dir.is_file():
            # Else "there is no index in FILE yet", with advice to ingest into the file, which cannot work. Said as
            # `stats` says it.
            raise ConfigError(f"{printed_path(settings.data_dir)} is a file, not an index folder.",
                              "Give --index (or ASSISTANT_DATA_DIR) the folder `assistant ingest` wrote the index to, "
                              "such as .assistant (the default).")
        if hasattr(args, "llm") and settings.llm.startswith("openai:"):
            from assistant.answer.llm import check_openai_endpoint

            check_openai_endpoint(settings)
        if hasattr(args, "llm") and settings.llm.partition(":")[0] == "local":
            # A mistyped model path was found only at the first question the reader could answer, after a start
            # that looked fine (and answers it refused were recorded under a mode that could not run).
            from assistant.answer.llm import local_model_path

            local_model_path(settings.llm.partition(":")[2])
        return args.handler(args, settings)
    except AssistantError as exc:
        _print_error(exc, as_json)
        return 2
    except KeyboardInterrupt:
        print(INTERRUPTED.get(args.command, "interrupted") + _purge_left(args.command, settings), file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like: not an error
        sys.stderr.close()
        return 0
    except OSError as exc:
        if not exc.filename:  # not about a path the user gave (no network, say): shown as it is
            raise
        # A folder where a file belongs, a file where a folder does, no space, no permission.
        _print_error(AssistantError(f"Could not read or write {printed_path(exc.filename)}: "
                                    f"{exc.strerror or exc}.",
                                    "Check that path: a file and a folder may have swapped places, or the disk "
                                    "may be full or not yours to write."), as_json)
        return 2
    except Exception as exc:
        problem = _database_problem(exc)
        if problem in (None, "busy") and settings is not None and _local_database_error(exc, settings) \
                and _nearly_full(settings.data_dir, settings.audit_path):
            # A full disk reaches SQLite as "disk I/O error" (a write to its WAL file failed) and Chroma as an
            # internal error: neither names it, and the busy advice (wait for another ingest) would send the user
            # waiting for a writer that does not exist.
            problem = "full"
        if problem is None and settings is not None and _of_local_vector_store(exc, settings):
            # Chroma's own failures say nothing of their cause ('Error in compaction: Failed to apply logs to the
            # metadata segment', as a file-size limit left it): a traceback told an operator less than this does.
            problem = "store failed"
        if problem is None:
            raise
        folder = printed_path(settings.data_dir) if settings else "the data folder"
        # The audit log may be elsewhere (ASSISTANT_AUDIT_PATH): a message naming only the index would send the
        # user to the wrong file. (The audit log's own failures are named by the log itself.)
        audit = f" or the audit log {printed_path(settings.audit_path)}" if settings else ""
        if problem == "damaged" and settings is not None and _of_local_vector_store(exc, settings):
            # Only the vectors are lost: moving the whole folder aside would lose the manifest too, and with it the
            # items withheld (a takedown, let in again by the rebuild), the names given with --council, fetch's state.
            store = printed_path(settings.chroma_dir)
            _print_error(AssistantError(
                f"The vector store in {store} cannot be read ({type(exc).__name__}: {exc}).",
                f"It is damaged. Move {store} aside (not the whole index folder, whose manifest keeps what is "
                "withheld) and run `assistant ingest` with your minutes, or the same `assistant fetch`: it makes the "
                "store anew and embeds its items again from the copy of their text the index keeps."), as_json)
        elif problem == "store failed":
            _print_error(AssistantError(
                f"The vector store in {printed_path(settings.chroma_dir)} failed ({type(exc).__name__}: "
                f"{one_printed_line(str(exc))}).",
                "Run the same command again: what was indexed is kept, and a run cut short is finished. If it fails "
                "again, check that the disk has room, and that no disk quota or file-size limit (`ulimit -f`) stops "
                "the store's files growing; `assistant stats` says whether the store is damaged."), as_json)
        elif problem == "damaged":
            _print_error(AssistantError(
                f"A database in {folder} cannot be read ({type(exc).__name__}: {exc}).",
                f"It is damaged. {PUT_BACK_A_BACKUP} Move {folder} aside and run `assistant ingest` with your "
                "minutes to rebuild the index, then withhold again what was withheld; keep the old audit.sqlite if it "
                "holds a record you need."), as_json)
        elif problem == "read-only":
            _print_error(AssistantError(
                f"A database (the index in {folder}{audit}) could not be written ({exc}).",
                "This user, or the disk it is on, may only read it: run as a user who may write it, or set "
                "ASSISTANT_AUDIT_PATH to a file this user may write if it is the audit log."), as_json)
        elif problem == "full":
            _print_error(AssistantError(
                f"A database (the index in {folder}{audit}) could not be written ({exc}).",
                "The disk is full: free some space and try again."), as_json)
        else:
            _print_error(AssistantError(
                f"A database (the index in {folder}{audit}) could not be used ({exc}).",
                "Another ingest or fetch may be writing to it: wait for it and try again."), as_json)
        return 2


def _path(text: str) -> Path:
    """A path argument, refused when empty: Path('') is the folder the command runs in, so `--index "$DIR"` with DIR
    unset built an index there, and `backup ""` said that '.' exists."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path: give a file or folder name (is a shell variable unset?)")
    return Path(text)


def _at_least_one(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a count: give a whole number of at least 1")
    return number


def _port(text: str) -> int:
    port = _port_number(text)
    if port is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port: give a number from 1 to 65535")
    return port


def _port_number(text: str) -> int | None:
    try:
        port = int(text)
    except ValueError:
        return None
    return port if 1 <= port <= 65535 else None


def _database_problem(exc: Exception) -> str | None:
    """"damaged" for a database file that cannot be read (the manifest and audit log are SQLite, as is Chroma's
    store), "read-only" or "full" for one that cannot be written, "busy" for one that is locked or on a failing
    disk, None for anything else."""
    import sqlite3

    if isinstance(exc, sqlite3.OperationalError):
        text = str(exc).lower()
        if "no such table" in text:  # an emptied file, or one that is not what it is named
            return "damaged"
        return "read-only" if "readonly" in text else "full" if "full" in text else "busy"
    if isinstance(exc, sqlite3.DatabaseError):
        return "damaged"
    text = str(exc).lower()
    if type(exc).__module__.startswith("chromadb") and ("malformed" in text or "not a database" in text):
        return "damaged"
    return None


def _local_database_error(exc: Exception, settings: Settings) -> bool:
    """An error of SQLite, or of Chroma's local store (a Chroma server's errors are of its own disk)."""
    import sqlite3

    return isinstance(exc, sqlite3.Error) or (type(exc).__module__.startswith("chromadb")
                                              and not settings.uses_chroma_server)


def _of_local_vector_store(exc: Exception, settings: Settings) -> bool:
    """An error of Chroma's store in the data folder (not the manifest's or the audit log's, which are SQLite's)."""
    return type(exc).__module__.startswith("chromadb") and not settings.uses_chroma_server


# Free space below which a database error is put down to a full disk: less than a few pages of a write.
NEARLY_FULL_BYTES = 8 << 20


def _nearly_full(*paths: Path) -> bool:
    """Whether the disk holding any of these paths (or the nearest folder above that exists) is all but full."""
    from assistant.files import free_bytes

    return any((free := free_bytes(path)) is not None and free < NEARLY_FULL_BYTES for path in paths)


def _parse(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """The arguments; a mistyped command or flag is refused as argparse refuses it, under the usage of the command it
    was given to, and with the command or flag it most looks like."""
    commands = parser.commands
    if argv and not argv[0].startswith("-") and argv[0] not in commands:
        parser.error(f"argument COMMAND: invalid choice: {argv[0]!r}{_meant(argv[0], list(commands))} "
                     f"(choose from {', '.join(map(repr, commands))})")
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        command = commands.get(getattr(args, "command", None) or "", parser)
        flags = [word.strip("[]()|") for word in command.format_usage().split()]
        typed = next((word.partition("=")[0] for word in unknown if word.startswith("--")), "")
        command.error(f"unrecognized arguments: {' '.join(unknown)}"
                      + _meant(typed, [flag for flag in flags if flag.startswith("--")]))
    return args


def _meant(typed: str, known: list[str]) -> str:
    """' (did you mean --council?)' for a word close to one of `known`, else ''."""
    import difflib

    close = difflib.get_close_matches(typed, known, n=1, cutoff=0.7) if typed else []
    return f" (did you mean {close[0]}?)" if close else ""


# Said alike by every command that takes --llm.
_LLM_HELP = "answering mode: extractive, openai:MODEL or local[:PATH] (default: $ASSISTANT_LLM, else extractive)"


def _parser(json_errors: bool = False) -> argparse.ArgumentParser:
    from assistant.present.briefing import DEFAULT_TITLE

    parser = _Parser(prog="assistant", description="Answer questions about council committee minutes, with every "
                     "statement cited and checked.")
    parser.json_errors = json_errors
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    parser.commands = {}  # each command's parser, by name: a usage error is given under the command's own usage

    def command(name: str, help_text: str, handler, uses_index: bool = True) -> argparse.ArgumentParser:
        p = parser.commands[name] = sub.add_parser(name, help=help_text, description=help_text)
        p.json_errors = json_errors
        if uses_index:
            p.add_argument("--index", type=_path, default=None, metavar="DIR",
                           help="data folder of the index (default: $ASSISTANT_DATA_DIR or ./.assistant)")
        p.set_defaults(handler=handler)
        return p

    p = command("ingest", "Read minutes into the index (only what changed is embedded).", _ingest)
    p.add_argument("paths", nargs="*", type=_path,
                   help="files or folders (default: corpus/, none with --rebuild-collection)")
    p.add_argument("--prune", action="store_true",
                   help="remove indexed items of files not found in these paths (minutes fetched with `assistant "
                        "fetch` are kept)")
    p.add_argument("--reset", action="store_true",
                   help="empty the index first and rebuild it, fetched minutes included (the summary gives the "
                        "`assistant fetch` that brings them back)")
    p.add_argument("--rebuild-collection", action="store_true",
                   help="for an index whose vectors are on a Chroma server that lost them (restarted empty): make "
                        "the index's collection there again and embed every item again from the copy of its text "
                        "the index keeps, reading and fetching nothing (PATHs, if given, are ingested too); a "
                        "collection of that name holding other chunks is refused. Killed part way, run it again")
    p.add_argument("--council", default=None, metavar="NAME",
                   help="the council of every item whose file names none (PDF, Word and plain text files, HTML "
                        "pages and JSONL lines without one, front matter without the field); the index remembers "
                        "it for those items, and a new file that names none takes it when every indexed file of its "
                        "folder was given the same")
    p.add_argument("--committee", default=None, metavar="NAME",
                   help="the committee of every item whose file names none, as --council")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")

    p = command("fetch", "Fetch minutes from a council's ModernGov site into the index (only what changed).",
                _fetch)
    p.add_argument("site", metavar="BASE_URL_OR_NAME",
                   help="a ModernGov base URL (https://democracy.example.gov.uk), or a council's slug, code or "
                        "name from the shipped directory (barnsley, BNS, 'Brighton and Hove')")
    p.add_argument("--council", default=None, metavar="NAME",
                   help="the council name stored on every item (default: the directory's name for the site)")
    # One value a flag, repeated for more: a flag taking several would swallow the site given after it.
    p.add_argument("--committee", action="append", default=[], metavar="ID_OR_TEXT",
                   help="a committee by id, or by part of the title in any case, with or without an apostrophe, "
                        "'&' or 'and' (default: every current committee); repeat the flag for more than one. A "
                        "text that matches several is followed by a note naming them")
    p.add_argument("--since", default="", metavar="DATE",
                   help="first meeting date, as 2024-04-01, 01/04/2024, 2024-04 or 2024 (default: the 12 months up "
                        "to --until). Every run asks again for the "
                        "meetings of the last $ASSISTANT_REFETCH_WEEKS weeks (default 26), whose minutes may be "
                        "published or corrected late; older ones whose minutes are in are not asked for again")
    p.add_argument("--until", default="", metavar="DATE", help="last meeting date (default: today)")
    p.add_argument("--check-all", action="store_true",
                   help="ask again for every meeting in the window, however old, to find at once items the site "
                        "has restricted or withdrawn since (each run otherwise checks a tenth of the older meetings "
                        "again, in turn)")
    p.add_argument("--list-committees", action="store_true",
                   help="print the committees (id; current, expired or deleted; title) and stop; with --json, "
                        "their category too")
    p.add_argument("--rate", type=float, default=None, metavar="PER_SECOND",
                   help="requests per second to the site (default: $ASSISTANT_FETCH_RATE or 1; 0 for no limit, "
                        "else 0.01 to 100)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")

    p = command("ask", "Answer a question from the minutes, with numbered sources.", _ask)
    p.add_argument("question", help="the question, in quotes")
    _filter_flags(p)
    p.add_argument("--llm", default=None, metavar="SPEC", help=_LLM_HELP)
    p.add_argument("--json", action="store_true", help="print exactly one JSON object")

    p = command("brief", "Ask each question in a file and write a cited briefing (.docx or .md).", _brief)
    p.add_argument("--questions", type=_path, required=True, metavar="FILE",
                   help="one question a line (# comments and blank lines ignored), or JSONL with `question` "
                        "and optional council/committee/since/until, or CSV (.csv) with those columns")
    p.add_argument("--out", type=_path, required=True, metavar="FILE",
                   help="briefing.docx or briefing.md; a file that exists is refused unless --replace is given")
    p.add_argument("--replace", action="store_true",
                   help="write over an --out that exists (never the --questions file)")
    p.add_argument("--title", default=DEFAULT_TITLE, help=f"the briefing's heading (default: {DEFAULT_TITLE})")
    p.add_argument("--llm", default=None, metavar="SPEC", help=_LLM_HELP)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    _filter_flags(p)

    p = command("audit", "List or export the audit log of answers and feedback.", _audit)
    p.add_argument("--format", choices=["table", "csv", "jsonl"], default=None,
                   help="default: from --out's name (.csv, .jsonl), else table")
    p.add_argument("--out", type=_path, default=None, metavar="FILE", help="write the export here (default: stdout)")
    p.add_argument("--show", default=None, metavar="ANSWER_ID", help="print one recorded answer exactly as given")
    p.add_argument("--limit", type=_at_least_one, default=None, metavar="N", help="only the most recent N answers")
    p.add_argument("--user", default=None, metavar="NAME",
                   help="only the answers this member asked, with their feedback (a subject access request)")
    p.add_argument("--mentioning", nargs="?", const=WORDS_FROM_INPUT, default=None, metavar="WORDS",
                   help="only the answers that mention these words (a child's name), or whose feedback does: in "
                        f"the question, the answer, its quotes; whole words, whatever their case. {_WORDS_HELP}")
    erase = p.add_mutually_exclusive_group()
    erase.add_argument("--erase-user", default=None, metavar="NAME",
                       help="delete every answer this member asked and all their feedback (an erasure request)")
    erase.add_argument("--erase-mentioning", nargs="?", const=WORDS_FROM_INPUT, default=None, metavar="WORDS",
                       help="delete every answer that mentions these words, with its feedback, and every piece of "
                            "feedback that does (an erasure request for someone named: what --mentioning lists). "
                            f"{_WORDS_HELP}")
    erase.add_argument("--erase-before", default=None, metavar="DATE",
                       help="delete every answer asked, and feedback given, before this day (UTC): a retention "
                            "period")
    p.add_argument("--yes", action="store_true", help="with --erase-user, --erase-mentioning or --erase-before: do it "
                                                       "(without it, only say what would be deleted)")

    p = command("withhold", "Take items out of the index and keep them out, whatever ingest or fetch reads (a "
                            "takedown); or let them in again.", _withhold)
    p.add_argument("ids", nargs="*", metavar="ID",
                   help="an item's identity (`source_url` in `ask --json`: a web address, or file:NAME#item-N), or a "
                        "file's or saved meeting page's (file:NAME), which covers the agenda items cut from it")
    p.add_argument("--release", action="store_true",
                   help="let these in again: the next ingest or fetch that reads them indexes them")
    p.add_argument("--list", action="store_true", help="list what is withheld")

    # The users file is not in the index: `--index` would change nothing.
    p = command("user", "Manage sign-in users for the app (the file named by ASSISTANT_AUTH).", _user,
                uses_index=False)
    p.add_argument("action", choices=["add", "remove"], help="add (or give a new password to) a user, or remove one")
    p.add_argument("name", metavar="NAME",
                   help="the user's name, as they sign in (up to 64 letters, digits and . _ @ -)")
    p.add_argument("--file", type=_path, default=None, help="the users file (default: $ASSISTANT_AUTH)")

    p = command("serve", "Start the chat app (building the index from the corpus first).", _serve)
    p.add_argument("--port", type=_port, default=None,
                   help="port (default: $GRADIO_SERVER_PORT, else 7860 or the next free port after it)")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--corpus", type=_path, default=DEFAULT_CORPUS, metavar="DIR",
                        help=f"folder to index before serving (default: {DEFAULT_CORPUS}/)")
    source.add_argument("--no-corpus", action="store_true",
                   help="serve the index as it is (for example, minutes fetched with `assistant fetch`)")
    p.add_argument("--llm", default=None, metavar="SPEC", help=_LLM_HELP)

    p = command("eval", "Run the grounding evaluation and write answers.jsonl, metrics.json and report.md.", _eval)
    p.add_argument("--questions", type=_path, required=True, metavar="FILE", help="questions JSONL (see eval/)")
    p.add_argument("--corpus", type=_path, nargs="*", default=None, metavar="PATH",
                   help="build a fresh temporary index from these (and check quotes against them)")
    p.add_argument("--pairs", type=_path, default=None, metavar="FILE",
                   help="labelled support pairs to measure the guard on (needs --corpus)")
    p.add_argument("--llm", default=None, metavar="SPEC", help=_LLM_HELP)
    p.add_argument("--out", type=_path, default=Path("eval/results/latest"), metavar="DIR",
                   help="where answers.jsonl, metrics.json and report.md go (default: eval/results/latest, from "
                        "the current folder; git ignores it in a checkout, since the answers quote the minutes)")
    p.add_argument("--floors", action="append", default=[], metavar="NAME",
                   help="compare the figures with this entry of eval/floors.json (seed, dev, guard, ...; may be given "
                        "more than once), with the question file it was set on: each is shown held or broken, and a "
                        "broken one makes the exit status 1")

    p = command("stats", "Show what is indexed: items and chunks by council, committee and year.", _stats)
    p.add_argument("--json", action="store_true", help="print as JSON")
    p = command("backup", "Copy the index folder, its audit log included, to a new folder, checked; the app may "
                "keep answering meanwhile.", _backup)
    p.add_argument("destination", type=_path, metavar="FOLDER", help="a new folder (or an empty one) for the copy")
    return parser


def _filter_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--council", default="",
                   help="only minutes of this council (loose: 'Sefton' finds 'Sefton Council')")
    p.add_argument("--committee", default="", help="only minutes of this committee (loose match)")
    p.add_argument("--since", default="", metavar="YYYY-MM-DD", help="only meetings on or after this date")
    p.add_argument("--until", default="", metavar="YYYY-MM-DD", help="only meetings on or before this date")


def _filters(args):
    from assistant.retrieve.filters import Filters

    return Filters(council=args.council, committee=args.committee, since=args.since, until=args.until)


def _version() -> str:
    from assistant import __version__

    return __version__


def _ingest(args, settings: Settings) -> int:
    from assistant.ingest.run import ingest

    # A rebuild of the collection reads no inputs but those named.
    paths = args.paths or ([] if args.rebuild_collection else [DEFAULT_CORPUS])
    summary = ingest(paths, settings, prune=args.prune, reset=args.reset,
                     progress=False if args.no_progress else None, council=args.council, committee=args.committee,
                     no_path_given=not args.paths and not args.rebuild_collection,
                     rebuild_collection=args.rebuild_collection)
    if args.json:
        print(json.dumps(summary.as_dict(), indent=2))
    else:
        print(summary.report())
    return 1 if summary.failed else 0


def _fetch(args, settings: Settings) -> int:
    from assistant.ingest.moderngov import FetchRequest, ServiceError, fetch_minutes, list_committees
    from assistant.ingest.moderngov.fetch import NO_COMMITTEES_HINT

    if args.rate is not None:
        settings = settings.with_(fetch_rate=args.rate)  # checked there, as ASSISTANT_FETCH_RATE is
    if args.list_committees:
        try:
            site, committees = list_committees(args.site, settings, council=args.council)
        except ServiceError as exc:  # the site could not answer: a failure of the run (1), not of the command (2)
            _print_error(exc, args.json)
            return 1
        if args.json:
            print(json.dumps({"base_url": site.base_url, "council": site.council,
                              "committees": [c.__dict__ for c in committees]}, indent=2))
        else:
            for c in committees:
                state = "deleted" if c.deleted else "expired" if c.expired else "current"
                print(f"{c.id:>8}  {state:<8} {one_printed_line(c.title)}")
            if not committees:
                print(f"{site.base_url} lists no committees. {NO_COMMITTEES_HINT}", file=sys.stderr)
        return 0
    request = FetchRequest(args.site, council=args.council, committees=tuple(args.committee),
                           since=_date_flag(args.since, "--since"), until=_date_flag(args.until, "--until"),
                           check_all=args.check_all)
    summary = fetch_minutes(request, settings, progress=False if args.no_progress else None)
    if args.json:
        print(json.dumps(summary.as_dict(), indent=2))
    else:
        print(_fetch_report(summary))
    if summary.failed and summary.committees == 0:  # the site could not even list its committees
        first = summary.failed[0]
        _print_error(AssistantError(first.reason, first.hint))
    return 0 if summary.ok else 1


def _date_flag(value: str, flag: str):
    import datetime as dt

    if not value.strip():
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        pass
    # Written as asked, but no such day: said as a filter of `ask` and `brief` says it (assistant.text.no_such_date).
    from assistant.text import date_span, no_such_date, parse_meeting_date

    if missing := no_such_date(value):
        raise AssistantError(f"{flag} {value.strip()} is not a date: {missing.reason}.",
                             f"{missing.advice}, for example {flag} {missing.example}.")
    # Any other form `ask --since` takes (01/04/2024, 1 April 2024, 2024-04, 2024), a month or a year counting from
    # its first day for --since and to its last for --until, as a filter reads it.
    try:
        first, last = date_span(parse_meeting_date(value.strip()))
    except ValueError as exc:
        raise AssistantError(f"{flag} must be a date, not {value!r} ({exc}).",
                             f"For example {flag} 2024-04-01 (or 01/04/2024, 1 April 2024, 2024-04 or 2024).") from None
    day = last if flag == "--until" else first
    return dt.date(day // 10000, day // 100 % 100, day % 100)


def _fetch_report(summary) -> str:
    ingest = summary.ingest
    # Counts of rarer cases only when there are any, so the everyday summary stays short; --json has them all.
    meetings_also = _nonzero(("held in private", summary.meetings_private),
                             ("minutes published but not as text", summary.meetings_without_minutes_text))
    items_also = _nonzero(("not checked", summary.items_not_checked))
    meetings_also = _nonzero(("old ones checked again", summary.meetings_rechecked)) + meetings_also
    removed_also = _nonzero(("removed as restricted since", summary.items_restricted_since))
    gone = f"; meetings no longer listed {summary.meetings_gone}" if summary.meetings_gone else ""
    lines = [
        f"{summary.council} ({summary.base_url}), meetings from {summary.since} to {summary.until}",
        f"committees {summary.committees}; meetings {summary.meetings} (fetched {summary.meetings_fetched}, "
        f"not modified {summary.meetings_not_modified}, not due {summary.meetings_not_due}, "
        f"cancelled {summary.meetings_cancelled}{meetings_also}){gone}",
        f"items new {summary.items_new}, changed {summary.items_changed}, unchanged {summary.items_unchanged}"
        f"{items_also}; restricted {summary.items_restricted} (not stored), without minutes "
        f"{summary.items_without_minutes}, withdrawn {summary.items_withdrawn}{removed_also}; "
        f"failed {len(summary.failed)}",
    ]
    if ingest is not None:
        lines.append(f"chunks added {ingest.chunks_added}, removed {ingest.chunks_removed}; "
                     f"{ingest.tokens_embedded} tokens embedded; total {summary.seconds:.1f} s")
    lines.extend(f"  skipped: {p.describe()}" for p in summary.skipped)
    lines.extend(f"  failed: {f.describe()}" for f in summary.failed)
    lines.extend(f"  note: {note}" for note in summary.notes)
    # The site's own titles and names are in the notes: an escape sequence in one must not drive the terminal.
    return "\n".join(one_printed_line(line) for line in lines)


def _nonzero(*counts: tuple[str, int]) -> str:
    return "".join(f", {label} {count}" for label, count in counts if count)


def _print_error(exc: AssistantError, as_json: bool = False) -> None:
    print(f"error: {_on_the_terminal(exc.message)}", file=sys.stderr)
    if exc.hint:
        print(f"  how to fix: {_on_the_terminal(exc.hint)}", file=sys.stderr)
    if as_json:  # (JSON escapes control characters itself)
        print(json.dumps({"error": exc.message, "hint": exc.hint}, ensure_ascii=False, indent=2))


def _on_the_terminal(message: str) -> str:
    """A message as standard error shows it: its lines as they are, each with no character that would drive the
    terminal (an escape sequence in a file name or a question it quotes). A line break in a path cannot be told from
    the message's own here: the message makes it a space where it names the path (printed_path)."""
    return "\n".join(one_printed_line(line) for line in message.split("\n"))


# What Ctrl-C leaves, for the commands that keep what they finished.
INTERRUPTED = {
    "ingest": "interrupted: the items that finished are in the index; run the same command again to go on",
    "fetch": "interrupted: the batches of meetings that went into the index before it are kept; run the same "
             "command again to go on",
    "serve": "stopped: the minutes it had ingested before are kept, and the app is closed if it had started",
    "backup": "interrupted: no backup was made (what was copied is removed), and the index is as it was",
}



def _purge_left(command: str, settings: Settings | None) -> str:
    """What a writer stopped before its purge leaves: removed minutes still readable in the data folder."""
    if command not in INTERRUPTED or settings is None or not settings.manifest_path.is_file():
        return ""
    from assistant.index.manifest import Manifest
    from assistant.index.purge import purge_owed

    try:
        manifest = Manifest(settings.manifest_path, read_only=True)
        try:
            owed = purge_owed(manifest)
        finally:
            manifest.close()
    except Exception:  # a manifest that cannot be read now says nothing here; stats names what is wrong with it
        return ""
    if not owed:
        return ""
    return (f"\nThe text of minutes it removed may still be readable in {printed_path(settings.data_dir)} until that "
            "run (or any ingest or fetch into it) finishes: do not copy the folder anywhere before then.")


def _ask(args, settings: Settings) -> int:
    from assistant.answer.service import Assistant, ModelFailure
    from assistant.present.audit import AnswerRecorder
    from assistant.present.render import answer_as_text

    filters = _filters(args)
    assistant = Assistant(settings.with_(llm=args.llm))
    recorder = AnswerRecorder(assistant)
    answer_id = None  # a question turned away is not recorded
    try:
        try:
            answer = assistant.ask(args.question, filters)
        except ModelFailure as failure:  # audited with its error, as every question asked is
            recorder.record_failure(failure, channel="cli")
            raise
        if answer.refusal_reason != "bad_question":
            answer_id = recorder.record(answer, channel="cli")
    finally:
        recorder.close()
        assistant.close()
    turned_away = _turned_away(answer) if answer.refusal_reason == "bad_question" else None
    if args.json:
        shown = answer.to_json() | {"answer_id": answer_id}  # the id `assistant audit --show` takes
        if turned_away:
            # Exit status 2 means an object with "error" and "hint", for every command; the answer's keys stay, for
            # the scripts that read refusal_reason.
            shown = {"error": turned_away.message, "hint": turned_away.hint} | shown
        print(json.dumps(shown, ensure_ascii=False, indent=2))
    else:
        print(answer_as_text(answer))
    if turned_away:  # exit status 2, so said on standard error as every such error is
        _print_error(turned_away)
        return 2
    return 0


def _turned_away(answer) -> AssistantError:
    """A question `ask` turns away (empty, small talk, a follow-up with no topic) as the error it is, with what to
    type instead."""
    from assistant.answer.service import NO_TOPIC

    hint = ('Name the topic too, in quotes: assistant ask "How many children left care in Sefton in 2019?"'
            if answer.answer == NO_TOPIC else
            'Ask about the minutes in words, in quotes: assistant ask "What did Sefton say about care leavers?"')
    return AssistantError(answer.answer, hint)


def _brief(args, settings: Settings) -> int:
    from assistant.present.briefing import BriefingIncomplete, BriefingInterrupted, make_briefing

    try:
        run = make_briefing(args.questions, args.out, settings.with_(llm=args.llm), _filters(args), title=args.title,
                            progress=False if args.no_progress else None, replace=args.replace)
    except BriefingIncomplete as partly:
        # Written, with the questions the model failed on marked as not answered: said, and exit 1, as an ingest
        # with a file that failed.
        print(partly.run.describe())
        print(f"warning: {_on_the_terminal(partly.message)}\n  how to fix: {_on_the_terminal(partly.hint)}",
              file=sys.stderr)
        return 1
    except BriefingInterrupted as stop:
        # Nothing rather than part: a briefing file that looks whole but is not could be sent on as it is.
        recorded = stop.in_audit_log
        print(f"interrupted after answering {stop.asked} of {counted(stop.total, 'question')}: nothing was written "
              f"to {printed_path(args.out)}.{' ' + recorded if recorded else ''} Run the command again for "
              "the briefing.", file=sys.stderr)
        return 130
    print(run.describe())
    return 0


def _audit(args, settings: Settings) -> int:
    from assistant.present.audit import AuditLog, refuse_a_folder
    from assistant.errors import IndexMissingError

    if args.erase_user is not None or args.erase_before is not None or args.erase_mentioning is not None:
        return _audit_erase(args, settings)
    if args.yes:
        raise ConfigError("--yes confirms an erasure; nothing here erases.",
                          "Give it with --erase-user NAME, --erase-mentioning WORDS or --erase-before DATE.")
    if args.show is not None and not args.show.strip():
        raise AssistantError("--show needs an answer id.", "List ids with `assistant audit`.")
    if args.show is not None and args.format not in (None, "table"):
        raise ConfigError("--show prints one answer as it was recorded (JSON); --format is for listings.",
                          "Leave out --format, or --show to export the log as CSV or JSONL.")
    for flag, given in (("--user", args.user), ("--mentioning", args.mentioning)):
        if args.show is not None and given is not None:
            raise ConfigError(f"--show prints one answer, whoever asked it; {flag} is for listings.",
                              "Leave out one of them.")
    args.mentioning, given_as = _words_given(args.mentioning, "--mentioning")
    _refuse_no_words(args.mentioning, "--mentioning")
    fmt = _audit_format(args)
    if args.out is not None:
        _refuse_index_file(args.out, settings)
    refuse_a_folder(settings.audit_path)
    if not settings.audit_path.is_file():
        raise IndexMissingError(f"No audit log at {printed_path(settings.audit_path)} yet.",
                                "Answers are recorded once asked.")
    log = AuditLog(settings.audit_path, read_only=True)  # listing writes nothing: it works on a full disk too
    try:
        if args.user is not None and not any(True for _ in log.entries(1, args.user)):
            _refuse_a_name_written_otherwise(log, args.user, "--user")
        if args.show is not None:
            text = json.dumps(log.as_shown(log.find(args.show)), ensure_ascii=False, indent=2) + "\n"
        elif fmt == "table":
            text = "\n".join(
                f"{e.answer_id}  {_when(e.asked_at)}  {e.channel:<5} {one_printed_line(e.user or '-')[:16]:<16} "
                f"{_status(e)}  {e.mode:<12} {one_printed_line(e.question[:80])}"
                for e in log.entries(args.limit, args.user, args.mentioning))
        else:
            text = log.export(fmt, limit=args.limit, user=args.user, mentioning=args.mentioning)
        if (args.user, args.mentioning) != (None, None) and not text.strip("\n") and fmt == "table":
            asked = f" asked by {one_printed_line(args.user)!r}" if args.user is not None else ""
            mention = f" mention {given_as}" if args.mentioning is not None else ""
            text = f"No answers{asked}{mention} in the audit log."
        if fmt == "table" and args.show is None:
            text = "\n".join([text] * bool(text) + [
                f"erased {_when(e['erased_at'])}: {counted(e['answers'], 'answer')} and "
                f"{counted(e['feedback'], 'piece')} of feedback ({e['what']})" for e in log.erasures()])
    finally:
        log.close()
    text += "\n" if text and not text.endswith("\n") else ""  # the table's last row ends its line, in a file too
    if args.out:
        # Readable by this user alone, as the log is: it holds members' questions under their names, and quotes of
        # minutes removed since.
        write_atomically(args.out, text, mode=0o600, through_links=False)
        print(f"wrote {printed_path(args.out)} (readable by you alone: it holds members' questions)")
    else:
        print(text, end="" if text else "\n")
    return 0


def _audit_erase(args, settings: Settings) -> int:
    """Delete one member's records (--erase-user), every record that mentions some words (--erase-mentioning) or every
    record older than a day (--erase-before), saying first how many; only with --yes. The log keeps a line saying when
    and how many were erased, and why, never whose nor which words."""
    import datetime as dt

    from assistant.errors import IndexMissingError
    from assistant.present.audit import AuditLog, refuse_a_folder

    listing = [flag for flag, given in (("--show", args.show), ("--out", args.out), ("--format", args.format),
                                        ("--limit", args.limit), ("--user", args.user),
                                        ("--mentioning", args.mentioning)) if given is not None]
    if listing:
        raise ConfigError(f"{' and '.join(listing)} {'is' if len(listing) == 1 else 'are'} for listing the log, "
                          "not erasing from it.", "Export what you need first, then erase in a command of its own.")
    if args.erase_user is not None and not args.erase_user.strip():
        raise ConfigError("--erase-user needs a member's name.", "List who asked what with `assistant audit`.")
    refuse_a_folder(settings.audit_path)
    if not settings.audit_path.is_file():
        raise IndexMissingError(f"No audit log at {printed_path(settings.audit_path)}: there is nothing to erase.",
                                "Check ASSISTANT_AUDIT_PATH (or --index).")
    args.erase_mentioning, given_as = _words_given(args.erase_mentioning, "--erase-mentioning")
    _refuse_no_words(args.erase_mentioning, "--erase-mentioning")
    if args.erase_user is not None:
        selection = {"user": args.erase_user}
        what, whose = "one member's records, on request", f"asked or given by {one_printed_line(args.erase_user)!r}"
    elif args.erase_mentioning is not None:
        selection = {"mentioning": args.erase_mentioning}
        what, whose = "records mentioning given words, on request", f"mentioning {given_as}"
    else:
        day = _date_flag(args.erase_before, "--erase-before")
        if day is None:
            raise ConfigError("--erase-before needs a day.", "For example --erase-before 2025-01-01.")
        if day > dt.datetime.now(dt.timezone.utc).date():
            raise ConfigError(f"--erase-before {day} is in the future: it would erase every record, and those of "
                              "answers still to come today.", "Give a day that has passed.")
        selection = {"before": dt.datetime.combine(day, dt.time(), dt.timezone.utc).timestamp()}
        what, whose = f"every record from before {day}, for retention", f"from before {day} (UTC)"
    log = AuditLog(settings.audit_path, read_only=not args.yes)
    try:
        answers, feedback = log.erasable(**selection)
        if args.erase_user is not None and not (answers or feedback):
            _refuse_a_name_written_otherwise(log, args.erase_user, "--erase-user")
        if not args.yes:
            print(f"Would erase {counted(len(answers), 'answer')} and {counted(len(feedback), 'piece')} of feedback "
                  f"{whose} from {printed_path(settings.audit_path)}. Nothing was erased: add --yes to erase them. "
                  "Copies made before (`assistant backup`, exports) keep them.")
            return 1
        erased, given, emptied = log.erase(what, **selection)
    finally:
        log.close()
    print(f"Erased {counted(erased, 'answer')} and {counted(given, 'piece')} of feedback {whose} from "
          f"{printed_path(settings.audit_path)}; the log records when, and how many, not whose. Copies made before "
          "(`assistant backup`, exports) still hold them: erase there too.")
    if not emptied:
        print("The app holds the log open, so the erased text may stay in its write-ahead file "
              f"({one_printed_line(settings.audit_path.name)}-wal) until the app stops or the file is next emptied.")
    return 0


def _words_given(words: str | None, flag: str) -> tuple[str | None, str]:
    """The words --mentioning or --erase-mentioning looks for, and how the command's messages name them: as given
    on the command line, or, given there without words (or as -), read from standard input (typed at a prompt, or
    from a file or a pipe) and never printed back, since a child's name on the command line stays in the shell's
    history and shows in `ps` while the command runs, and one printed stays in a terminal's scrollback."""
    if words != WORDS_FROM_INPUT:
        return words, repr(one_printed_line(words or ""))
    if sys.stdin.isatty():
        import getpass

        # Not shown as typed, as a password is not: on screen, a child's name stays in the terminal's scrollback.
        lines = [getpass.getpass("Words to look for (a name, say; not shown as you type), then Enter: ",
                                 stream=sys.stderr)]
    else:
        lines = sys.stdin.read().splitlines()
    lines = [line.strip().lstrip("\ufeff").strip() for line in lines if line.strip().lstrip("\ufeff").strip()]
    if len(lines) > 1:
        raise ConfigError(f"{flag} reads one line of words from standard input; it was given {len(lines)}: they "
                          "would be looked for as one run of words, and match nothing.",
                          "Give one name (or run of words) a command; run it again for each of the others.")
    return (lines[0] if lines else ""), "the words given"


def _refuse_no_words(words: str | None, flag: str) -> None:
    """Refuse words to look for that hold no letter or figure (a blank, '...'): they would match nothing."""
    from assistant.text import as_words

    if words is not None and not as_words(words):
        raise ConfigError(f"{flag} needs the words to look for (a name, say), with letters or figures.",
                          f"For example {flag} \"Jayden Smith\", or {flag} alone to type them at a prompt (kept out "
                          "of the shell's history); a name matches whatever its case and accents.")


def _refuse_a_name_written_otherwise(log, user: str, flag: str) -> None:
    """Refuse a member's name that the log holds only in another case ('ALICE' where it holds 'alice'): the records
    are kept under the name as the member was added, and an export or erasure that found nothing had been taken for
    one that was done (a subject access answered 'nothing held', an erasure that erased nothing)."""
    if others := log.names_written_otherwise(user):
        names = " and ".join(repr(one_printed_line(name)) for name in others)
        raise ConfigError(f"The audit log holds nothing under the name {one_printed_line(user)!r}, but holds records "
                          f"of {names}: names are matched as they are written.",
                          f"Give {flag} {one_printed_line(others[0])!r} if that is the member meant.")


_EXPORT_SUFFIXES = {".csv": "csv", ".jsonl": "jsonl"}


def _audit_format(args) -> str:
    """The listing's format: --format's, else the one --out's name gives (.csv, .jsonl), else the table. A name
    that says one format while --format asks for another is refused, rather than a file its name misdescribes."""
    implied = _EXPORT_SUFFIXES.get(args.out.suffix.lower()) if args.out is not None else None
    if args.show is not None:
        if implied:
            raise ConfigError(f"--show writes one answer as JSON, not as {implied.upper()}: {printed_path(args.out)} "
                              "would be misnamed.", "Give --out a .json name, or leave out --show to export the log.")
        return "table"
    if implied and args.format not in (None, implied):
        raise ConfigError(f"--format {args.format} does not fit {printed_path(args.out)}, whose name says "
                          f"{implied.upper()}.",
                          f"Leave out --format (the name decides), or give --out a name that fits {args.format}.")
    return args.format or implied or "table"


def _status(entry) -> str:
    if entry.record.get("error") and not entry.record.get("answer"):
        return "failed  "
    return "refused " if entry.refused else "answered"


def _refuse_index_file(out: Path, settings: Settings) -> None:
    """Refuse an --out that would write over the index's own files (the audit log being exported, the manifest) or
    over any SQLite database: the export replaces the file whole, and the log is the only record of what was said."""
    refuse_link(out, "--out")
    target, data_dir = out.expanduser().resolve(), settings.data_dir.expanduser().resolve()
    if target.is_relative_to(data_dir):
        raise AssistantError(f"{printed_path(out)} is inside the index folder {printed_path(settings.data_dir)}: the "
                             "export would write over the index's own files (the audit log itself, perhaps).",
                             "Give --out a file outside the index folder.")
    if is_sqlite_database(target):  # (a missing file or a folder is not: the write says what is wrong with it)
        raise AssistantError(f"{printed_path(out)} is an SQLite database: the export would replace it whole.",
                             "Give --out the name of a new file, or of an earlier export.")


def _when(timestamp: float) -> str:
    """Local time, with its offset from UTC (exports give UTC)."""
    import time

    return time.strftime("%Y-%m-%d %H:%M %z", time.localtime(timestamp))


def _withhold(args, settings: Settings) -> int:
    from assistant.ingest.withhold import release, withhold, withheld_identities

    ids = list(dict.fromkeys(identity.strip() for identity in args.ids))
    if "" in ids:
        raise ConfigError("An ID is empty.", "Give each item's identity, as `ask --json` shows it in source_url.")
    if args.list:
        if ids or args.release:
            raise ConfigError("--list lists what is withheld; it takes no ID and no --release.", "Leave them out.")
        from assistant.index.stats import index_exists

        if not index_exists(settings):  # said, in case --index or ASSISTANT_DATA_DIR names the wrong folder
            print(f"Nothing is withheld: there is no index in {printed_path(settings.data_dir)} yet.")
            return 0
        withheld = withheld_identities(settings)
        print("\n".join(one_printed_line(identity) for identity in withheld) if withheld else "Nothing is withheld.")
        return 0
    if not ids:
        raise ConfigError("Name the items to withhold (or, with --release, to let in again).",
                          "Give each item's identity, as `ask --json` shows it in source_url; --list shows what is "
                          "withheld.")
    if args.release:
        released = release(settings, ids)
        for identity in ids:
            print(f"{one_printed_line(identity)}: " + ("released: the next ingest or fetch that reads it indexes it "
                                                      "again" if identity in released else "was not withheld"))
        return 0
    done, summary = withhold(settings, ids)
    for each in done:
        print(f"{one_printed_line(each.identity)}: withheld; " + (
            f"{counted(each.taken_out, 'item')} taken out of the index" if each.taken_out else
            "nothing in the index has that identity now (check it against `ask --json`'s source_url); kept out if "
            "an ingest or fetch reads it"))
    for note in summary.notes:
        print(f"  note: {note}")
    return 0


def _user(args, settings: Settings) -> int:
    import getpass

    from assistant.present.auth import add_user, remove_user

    path = args.file or (Path(settings.auth_file) if settings.auth_file else None)
    if path is None:
        raise ConfigError("No users file given.", "Set ASSISTANT_AUTH to its path, or pass --file.")
    if args.action == "remove":
        remove_user(path, args.name)
        print(f"user {one_printed_line(args.name)} removed from {printed_path(path)} (a running app ends "
              "their sessions at their next request)")
        return 0
    if sys.stdin.isatty():
        password = getpass.getpass(f"Password for {args.name}: ")
        if password != getpass.getpass("Again: "):
            raise ConfigError("The two passwords differ.", "Run the command again.")
    else:  # scripted set-up: the password on standard input, never on the command line
        password = sys.stdin.readline().rstrip("\n")
    add_user(path, args.name, password)
    print(f"user {one_printed_line(args.name)} saved in {printed_path(path)}")
    return 0


def _serve(args, settings: Settings) -> int:
    port = _check_gradio_settings(args.port)
    from assistant.present.app import launch_app

    try:
        launch_app(settings.with_(llm=args.llm), None if args.no_corpus else args.corpus, port=port)
    except OSError as exc:
        # Gradio says only this when every port it may use is taken; any other OSError keeps main's handling.
        if exc.filename or not str(exc).startswith("Cannot find empty port in range: "):
            raise
        raise AssistantError(f"{_ports_named_in(str(exc))} already in use, so the app cannot start.",
                             "Another program is listening there, perhaps this app started earlier: stop it, "
                             "or choose another port with --port or GRADIO_SERVER_PORT.") from None
    return 0


def _check_gradio_settings(port: int | None) -> int | None:
    """GRADIO_SERVER_PORT and GRADIO_SERVER_NAME, checked before Gradio reads them: it does so on import, with
    int() and no check of its own, and takes a name it cannot listen on for a port in use. Returns the port named
    by --port or the variable, if any: given to Gradio, a port in use is refused rather than passed over for the
    next free one (which Gradio does with the variable alone), since a proxy or bookmark points at the port named."""
    for name in ("GRADIO_SERVER_PORT", "GRADIO_SERVER_NAME"):
        if name in os.environ and not os.environ[name].strip():
            del os.environ[name]  # empty: unset, as the app's own variables are
    if port is not None:
        os.environ["GRADIO_SERVER_PORT"] = str(port)  # --port wins; Gradio reads the variable on import all the same
    raw_port = os.environ.get("GRADIO_SERVER_PORT")
    if raw_port is not None and _port_number(raw_port) is None:
        raise ConfigError(f"GRADIO_SERVER_PORT must be a port number from 1 to 65535, not {raw_port!r}.",
                          "Set it to a free port such as 7861, or unset it to use 7860 (or the next free port "
                          "after it). --port overrides it.")
    host = os.environ.get("GRADIO_SERVER_NAME")
    if host is not None:
        _check_server_name(host)
    return port if port is not None else (_port_number(raw_port) if raw_port is not None else None)


def _check_server_name(host: str) -> None:
    import ipaddress
    import socket

    hint = ("Set it to an address or host name of this machine (0.0.0.0 listens on every network interface), or "
            "unset it to listen on 127.0.0.1, for this machine only.")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not _is_host_name(host):
            raise ConfigError(f"GRADIO_SERVER_NAME must be a host name or an IP address (no scheme, port or path), "
                              f"not {host!r}.", hint) from None
    try:
        family, _, _, _, address = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)[0]
    except (OSError, UnicodeError):
        raise ConfigError(f"GRADIO_SERVER_NAME is {host!r}, a name that does not resolve to an address.",
                          hint) from None
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((address[0], 0))
        except OSError as exc:
            raise ConfigError(f"GRADIO_SERVER_NAME is {host!r}, an address the app cannot listen on here "
                              f"({exc.strerror or exc}).", hint) from None


def _is_host_name(name: str) -> bool:
    """Whether `name` is written as a DNS host name: dot-separated labels of letters, digits and inner hyphens."""
    allowed = set(string.ascii_letters + string.digits + "-")
    labels = name.removesuffix(".").split(".")
    return len(name) <= 253 and all(0 < len(label) <= 63 and set(label) <= allowed and label[0] != "-"
                                    and label[-1] != "-" for label in labels)


def _ports_named_in(gradio_message: str) -> str:
    """"Port 7860 is" or "Ports 7860 to 7959 are all", from Gradio's "...in range: 7860-7959. You can..."."""
    first, _, last = gradio_message.partition("range: ")[2].partition(".")[0].partition("-")
    if not first.isdigit() or not last.isdigit():
        return "The port is"
    return f"Port {first} is" if first == last else f"Ports {first} to {last} are all"


def _eval(args, settings: Settings) -> int:
    from assistant.present.eval_scoring import summary_lines
    from assistant.present.evaluate import EvalInterrupted, ReportNotWritten, run_evaluation

    if args.corpus is not None and not args.corpus:
        raise ConfigError("--corpus names no minutes.", "Give it the files or folders to build the index from, or "
                                                        "leave it out to ask the existing index (--index DIR).")
    if args.corpus and args.index is not None:
        # --corpus builds a scratch index of its own: evaluating it while --index named another would report figures
        # of minutes other than those the user meant.
        raise ConfigError("--corpus and --index cannot be given together: --corpus builds a fresh index of those "
                          "minutes, --index asks an index already built.", "Give one of them.")
    # Printed: a name that is not UTF-8 would fail to print once the answers are in, and one with control characters
    # would drive the terminal.
    out = one_printed_line(readable(str(args.out)))
    try:
        with _terminate_as_ctrl_c():
            metrics = run_evaluation(args.questions, settings.with_(llm=args.llm), args.out, corpus=args.corpus,
                                     pairs_path=args.pairs, floors=args.floors)
    except EvalInterrupted as stop:
        print(f"interrupted after answering {stop.asked} of {counted(stop.total, 'question')}: nothing was written "
              f"to {out}, and the results of an earlier run there are as they were. Run the command again for the "
              "results.", file=sys.stderr)
        return 130
    except ReportNotWritten as failure:
        # A warning, not an error: the run's result, the answers, is written, and the status says so (README, "The
        # CLI": 0 whenever answers.jsonl is written, unless a floor --floors names is broken).
        print(f"warning: {_on_the_terminal(failure.message)}\n  how to fix: {_on_the_terminal(failure.hint)}",
              file=sys.stderr)
        metrics = failure.metrics
    else:
        print(f"wrote {out}/answers.jsonl, metrics.json and report.md")
    if metrics is not None and (replaced := metrics.get("replaced_results")):
        named = printed_path(readable(replaced["questions_file"] or ""))  # as warnings name it: no escape runs raw
        of = (f" of {named} ({counted(replaced['questions'], 'question')} scored, {replaced['run_at']})"
              if replaced.get("questions_file") else "")
        print(f"  (in place of the results of an earlier run{of}: give --out a folder of its own to keep both)")
    if metrics is None:  # interrupted while scoring: the answers are written, and nothing was compared
        if args.floors:
            # 0 says that every floor held, and would pass a gate that never compared one.
            print(f"  the floors ({', '.join(args.floors)}) were not compared: run the command again to compare them",
                  file=sys.stderr)
            return 130
        return 0
    for line in summary_lines(metrics):
        print(line)
    return 1 if metrics.get("floors", {}).get("broken") else 0


@contextlib.contextmanager
def _terminate_as_ctrl_c():
    """SIGTERM (`kill`, a CI job's time limit) taken as Ctrl-C while the block runs: Python's own handling ends the
    process at once, and had left an evaluation's scratch index in the temporary folder and the --out folders it made."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():  # only the main thread may set a handler
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _backup(args, settings: Settings) -> int:
    from assistant.index.backup import back_up

    print(back_up(settings, args.destination).report(settings))
    return 0


def _stats(args, settings: Settings) -> int:
    from assistant.index.stats import index_stats

    stats = index_stats(settings)
    # 1 when the index wants something run (its notes say what), as a scheduled check reads it; a writer at work is not
    # that, nor is an empty index.
    status = 1 if stats.needs_action else 0
    if args.json:
        print(json.dumps(stats.as_dict(), indent=2))
        return status
    if stats.writing:  # first, so that nobody reads the counts below as final
        print(_on_the_terminal(stats.notes_text), end="")
    print(f"{counted(stats.items, 'item')}, {counted(stats.chunks, 'chunk')} (embedding model: "
          f"{stats.embedding_model})")
    if not stats.writing:
        print(_on_the_terminal(stats.notes_text), end="")
    for title, table in (("council", stats.by_council), ("committee", stats.by_committee), ("year", stats.by_year)):
        print(f"\nby {title}:")
        # The names are the minutes' own: a JSONL line or front matter may give one holding a terminal's escapes.
        shown = [(one_printed_line(key), counts) for key, counts in table.items()]
        width = max((len(k) for k, _ in shown), default=0)
        for key, (items, chunks) in shown:
            print(f"  {key:<{width}}  {items:>5} {noun_for(items, 'item'):<5}  {chunks:>6} {noun_for(chunks, 'chunk')}")
    return status
