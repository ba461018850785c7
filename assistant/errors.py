"""The errors a user can act on. Each message says what went wrong and how to fix it."""

from pathlib import Path


class AssistantError(Exception):
    """A problem the user can fix; the CLI and the app show its message, not a traceback."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()


def causes_of(exc: BaseException) -> list[BaseException]:
    """The exception and those it was raised from or while handling, outermost first, each once: what a library
    wraps (a refused connection inside a client's own error) is told apart by what it wraps."""
    found: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in found):
        found.append(current)
        current = current.__cause__ or current.__context__
    return found


class ConfigError(AssistantError):
    """A setting or argument has a value that cannot work."""


class ModelError(AssistantError):
    """A model could not be found or loaded without the network, or a language model's request failed."""

    # The failure as an ordinary log (the app's console, a service manager's journal) names it, when the message
    # quotes a model server: its error may echo what it was sent, the member's question with it, which belongs in the
    # audit log alone. None when the message quotes no server.
    logged: str | None = None


class ModelTimeout(ModelError):
    """A language model that did not finish its reply in time: the reader's answer is shown in its place."""


class IndexMissingError(AssistantError):
    """The index has not been built yet."""


class IndexMismatchError(AssistantError):
    """The index was built with settings that differ from the current ones."""


class NotWritableError(AssistantError):
    """A command must write to a folder that this user may only read (a read-only mount, another user's index)."""



class IndexStaleError(AssistantError):
    """The keyword index does not hold the chunks the manifest lists (an ingest was interrupted or is running)."""


class BadFilterError(AssistantError):
    """A filter value the user gave cannot be used. One about a single filter keeps its name (`field`) apart from
    what is wrong (`rest`), so that a form that labels the field otherwise can name it as it does (`called`)."""

    def __init__(self, message: str, hint: str = "", *, field: str = "", rest: str = "") -> None:
        super().__init__(message, hint)
        self.field, self.rest = field, rest

    @classmethod
    def about(cls, field: str, rest: str, hint: str) -> "BadFilterError":
        """'The since date must be like ...': the field `since`, and the rest of the sentence after its name."""
        return cls(f"The {field} {rest}", hint, field=field, rest=rest)

    def called(self, labels: dict[str, str]) -> str:
        """The message with its field named by `labels` (field: label), as the app's form names it."""
        return f"The {labels[self.field]} {self.rest}" if self.field in labels else self.message


def no_index_yet(folder, also: str = "") -> IndexMissingError:
    """No index in the data folder: the message every command gives, naming the folder to ingest into (in full
    when it was given relative to the folder the command runs in: `./run.sh` builds `.assistant` in the checkout).
    `also` adds to the message what else is missing (", and no corpus folder to build it from")."""
    where = f" ({Path(folder).resolve()})" if not Path(folder).is_absolute() else ""
    return IndexMissingError(f"There is no index in {folder}{where} yet{also}.",
                             f"Run `assistant ingest --index {folder} PATH` with your minutes first (with no PATH it "
                             f"reads corpus/), or `assistant fetch COUNCIL --index {folder}` for a council's ModernGov "
                             "site, or give --index the folder an index was built in.")


# The first hint for a manifest lost: its list of what `assistant withhold` keeps out goes with it, and an index rebuilt
# from the minutes would let those items in again without a word.
PUT_BACK_A_BACKUP = ("If you have a backup of the index (`assistant backup`), put it back instead: the manifest lists "
                     "the items withheld with `assistant withhold`, which an index rebuilt from your minutes lets in "
                     "again.")


def manifest_damaged(manifest_path, data_dir) -> IndexMissingError:
    """The manifest holds no record of what is indexed (emptied, cut short, or not a manifest), in a folder that
    holds an index: the message every command gives."""
    return IndexMissingError(f"The manifest {manifest_path} is empty or damaged: it holds no record of what is "
                             "indexed.", f"{PUT_BACK_A_BACKUP} Move {data_dir} aside and run `assistant ingest "
                             f"--index {data_dir} PATH` with your minutes to rebuild the index (keep the old folder's "
                             "audit.sqlite if its records matter), then withhold again what was withheld.")

