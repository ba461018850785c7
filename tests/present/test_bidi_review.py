"""Bidirectional controls in minutes (from a security review): a right-to-left override (U+202E) at the end of an item's
title reversed what followed it on the line, so a source's link to another site read as the council's own address,
in the chat, the source panel and both briefings."""

from docx import Document

from assistant.present.app import ChatHandlers, Turn, source_choice_label
from assistant.present.briefing import entry_from_answer, write_briefing
from assistant.present.render import answer_as_text
from assistant.records import Answer, Citation, SentenceVerdict

RLO = "\u202e"
# Embeddings, overrides and isolates, with the pop that ends them: each reorders the text around it.
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
# Displayed after the override, right to left, it reads 'https://www.northbrook.gov.uk/elpmaxe.live//:sptth'.
ELSEWHERE = "https://evil.example/ku.vog.koorbhtron.www//:sptth"


def _spoofing_answer() -> Answer:
    citation = Citation(1, "item-1", "Northbrook Council", "Board", "2021-01-01", f"Fostering {RLO}",
                        f"Carers were {RLO}detiurcer.", "chunk-1", ELSEWHERE)
    return Answer("How many carers?", f"Carers were {RLO}detiurcer. [1]", False, None, "extractive",
                  citations=[citation],
                  sentences=[SentenceVerdict(f"Carers were {RLO}detiurcer. [1]", (1,), True, True, 1.0, "verbatim")])


def _reorders(text: str) -> bool:
    return any(ch in text for ch in BIDI_CONTROLS)


def test_the_chat_and_its_source_panel_show_no_text_reordered(hashing_assistant):
    handlers = ChatHandlers(hashing_assistant)
    answer = _spoofing_answer()
    chat, panel = handlers.render(answer), handlers.source_panel(Turn("a" * 32, answer), 1)
    assert not _reorders(chat) and not _reorders(panel)
    assert not _reorders(source_choice_label(answer.citations[0]))  # "Open a source"'s choice
    assert ELSEWHERE in chat and ELSEWHERE in panel  # the address is still there, read as it leads


def test_a_briefing_and_the_plain_answer_show_no_text_reordered(tmp_path):
    entry = entry_from_answer(_spoofing_answer())
    markdown = write_briefing([entry], tmp_path / "b.md").read_text(encoding="utf-8")
    assert not _reorders(markdown) and f"<{ELSEWHERE}>" in markdown
    word = Document(str(write_briefing([entry], tmp_path / "b.docx")))
    assert not any(_reorders(p.text) for p in word.paragraphs)
    assert not any(_reorders(r.target_ref) for r in word.part.rels.values() if r.is_external)
    assert not _reorders(answer_as_text(_spoofing_answer()))
