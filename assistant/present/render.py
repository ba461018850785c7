"""Plain-text rendering of answers, shared by the CLI, the app's API and briefings."""

from __future__ import annotations

from assistant.records import Answer, Citation


def source_line(c: Citation) -> str:
    parts = [c.council or "(council unknown)", c.committee or "(committee unknown)", c.meeting_date or "(date unknown)",
             c.item_title or "(untitled item)"]
    return " \u2014 ".join(parts)


def answer_as_text(answer: Answer) -> str:
    lines = [answer.short_answer, ""] if answer.short_answer and not answer.refused else []
    lines.append(answer.answer)
    lines.extend(f"({note})" for note in answer.notes)
    if answer.refused and answer.nearest:
        lines.append("\nNearest items in the minutes:")
        for item in answer.nearest:
            lines.append(f"  - {item.council or '(council unknown)'} \u2014 {item.committee or '(committee unknown)'} "
                         f"\u2014 {item.meeting_date or '(date unknown)'} \u2014 {item.item_title} <{item.source_url}>")
    shown = {m for s in answer.sentences if s.shown for m in s.markers}
    cited = [c for c in answer.citations if c.marker in shown]
    if cited:
        lines.append("\nSources:")
        for c in cited:
            lines.append(f"  [{c.marker}] {source_line(c)}")
            lines.append(f"      {c.source_url}")
            lines.append(f"      \u201c{c.quote.strip()}\u201d")
    unsupported = [s for s in answer.sentences if not s.supported]
    if unsupported:
        lines.append(f"\n({len(unsupported)} generated sentences were not supported by the minutes and are not shown.)")
    return "\n".join(lines)
