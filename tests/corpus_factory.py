"""Small synthetic corpora written by the tests themselves."""

from __future__ import annotations

import json
from pathlib import Path

COUNCILS = ["Northshire County Council", "Riverton Borough Council", "Eastwick City Council", "Dale Council"]
TOPICS = ["foster carers", "care leavers", "early help", "child protection plans", "social worker vacancies"]


def minute_text(n: int) -> str:
    topic = TOPICS[n % len(TOPICS)]
    paragraphs = [
        "Agenda item", f"Item {n}: {topic.title()} update", "Minutes:",
        f"The Director presented the report on {topic} for quarter {n % 4 + 1}.",
        f"Members noted that {n * 3 + 7} children were supported in the period, compared with {n * 2 + 5} last year.",
        "A Member asked how the service would sustain the improvement. It was explained that recruitment "
        "had been strengthened and that supervision was now monthly for every worker.",
        f"Concerns were raised about the timeliness of visits in the {['north', 'south', 'east', 'west'][n % 4]} locality.",
        "RESOLVED that:",
        "(i) the report be noted; and",
        f"(ii) a further update on {topic} be brought to the committee in six months.",
    ]
    return "\n\n".join(paragraphs)


def write_markdown_corpus(folder: Path, count: int, start: int = 0) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(start, start + count):
        front = {
            "id": f"synthetic-{n:03d}", "council": COUNCILS[n % len(COUNCILS)],
            "committee": "Children's Scrutiny Committee", "meeting_date": f"{2015 + n % 9}-{n % 12 + 1:02d}",
            "item_title": f"{TOPICS[n % len(TOPICS)].title()} update",
        }
        header = "---\n" + "".join(f"{k}: {json.dumps(v)}\n" for k, v in front.items()) + "---\n"
        path = folder / f"item-{n:03d}.md"
        path.write_text(header + minute_text(n), encoding="utf-8")
        paths.append(path)
    return paths
