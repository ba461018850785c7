import json

import pytest

from assistant.ingest.chunk import breadcrumb, chunk_item
from assistant.records import MinuteItem
from assistant.ingest.structure import parse_blocks
from assistant.ingest.tokens import TokenCounter

from conftest import CORPUS, DEV_CORPUS

COUNTER = TokenCounter()


def corpus_items() -> list[MinuteItem]:
    import frontmatter

    items = []
    for path in sorted(CORPUS.glob("*.md")):
        post = frontmatter.loads(path.read_text(encoding="utf-8"))
        items.append(MinuteItem(source_id=post["id"], text=path.read_text(encoding="utf-8").split("---\n", 2)[2],
                                council=post["council"], committee=post["committee"],
                                meeting_date=str(post["meeting_date"]), item_title=post["item_title"]))
    return items


def test_blocks_follow_the_minutes_structure():
    text = (CORPUS / "barnsley-2018-csc-performance.md").read_text().split("---\n", 2)[2]
    kinds = [b.kind for b in parse_blocks(text)]
    assert kinds == ["agenda", "discussion", "resolution"]
    resolution = parse_blocks(text)[-1].span.of(text)
    assert resolution.startswith("RESOLVED that:") and resolution.rstrip().endswith("contribution.")


def test_action_lines_and_supporting_documents_are_their_own_kinds():
    text = "Minutes:\nThe report was discussed at length.\nRESOLVED - that the report be noted.\nACTION: Director\nSupporting documents:\nReport.pdf"
    assert [b.kind for b in parse_blocks(text)] == ["discussion", "resolution", "action", "supporting"]


def test_minutes_after_the_document_list_are_kept_even_without_a_minutes_line():
    # ModernGov issue pages list the documents and go straight on with the minutes or the decision.
    text = ("Recruitment of social workers\nSupporting documents:\n- 18a. Appendix 1 Family Hubs, item 18 PDF 412 KB\n"
            "Report on recruitment\nCabinet Member Councillor Wheeler presented the report on market supplements.\n"
            "Decision:\nThat the plan be approved.\n")
    blocks = parse_blocks(text)
    assert [b.kind for b in blocks] == ["discussion", "supporting", "discussion", "resolution"]
    assert "Appendix 1" in blocks[1].span.of(text) and "Report on recruitment" in blocks[1].span.of(text)
    assert "market supplements" in blocks[2].span.of(text)


def test_text_that_mentions_a_resolution_mid_sentence_stays_discussion():
    text = "Minutes:\nMembers asked whether the issue had been resolved.\nIt had not."
    assert [b.kind for b in parse_blocks(text)] == ["discussion"]


@pytest.mark.parametrize("item", corpus_items(), ids=lambda i: i.source_id)
def test_seed_chunks_are_verbatim_within_budget_and_in_order(item):
    chunks = chunk_item(item, COUNTER, 180)
    assert chunks
    assert all(c.text in item.text for c in chunks)
    assert all(c.tokens <= 180 for c in chunks)
    assert [c.position for c in chunks] == list(range(len(chunks)))
    starts = [c.metadata["char_start"] for c in chunks]
    assert starts == sorted(starts)
    assert all(item.text[c.metadata["char_start"]:c.metadata["char_end"]] == c.text for c in chunks)
    assert all(c.embed_text.startswith(breadcrumb(item)) for c in chunks)
    assert len({c.chunk_id for c in chunks}) == len(chunks)


def test_a_resolution_that_fits_stays_in_one_chunk():
    item = corpus_items()[-1]  # Sefton: RESOLVED with three numbered parts
    resolutions = [c for c in chunk_item(item, COUNTER, 180) if c.kind == "resolution"]
    assert len(resolutions) == 1 and "(1)" in resolutions[0].text and "(3)" in resolutions[0].text


def test_no_sentence_is_cut_unless_it_alone_is_too_long():
    long_sentence = "The committee noted " + ", ".join(f"point number {i} on placements" for i in range(120)) + "."
    text = "Minutes:\nA short opening sentence. " + long_sentence + "\nAnother short sentence follows here."
    item = MinuteItem(source_id="x", text=text, council="Test Council")
    chunks = chunk_item(item, COUNTER, 100)
    assert all(c.tokens <= 100 for c in chunks)
    for sentence in ("A short opening sentence.", "Another short sentence follows here."):
        assert sum(sentence in c.text for c in chunks) == 1  # whole, in exactly one chunk
    assert len(chunks) >= 3  # the long sentence alone exceeds the budget, so it was cut
    body = text[len("Minutes:\n"):]
    assert "".join(c.text for c in chunks).replace(" ", "").replace("\n", "") == body.replace(" ", "").replace("\n", "")


def test_a_run_without_spaces_is_still_cut_to_size():
    item = MinuteItem(source_id="x", text="Minutes:\n" + "x" * 5000, council="Test Council")
    chunks = chunk_item(item, COUNTER, 60)
    assert all(c.tokens <= 60 for c in chunks)
    assert "".join(c.text for c in chunks) == "x" * 5000


def test_identical_boilerplate_in_two_items_gets_distinct_ids():
    text = "Minutes:\nRESOLVED that the report be noted."
    a = chunk_item(MinuteItem(source_id="a", text=text), COUNTER, 180)
    b = chunk_item(MinuteItem(source_id="b", text=text), COUNTER, 180)
    assert a[0].text == b[0].text and a[0].chunk_id != b[0].chunk_id
    assert chunk_item(MinuteItem(source_id="a", text=text), COUNTER, 180)[0].chunk_id == a[0].chunk_id


def test_dates_and_councils_are_stored_for_filtering():
    item = MinuteItem(source_id="s", text="Minutes:\nSome text here.", council="Sefton Metropolitan Borough Council",
                      committee="Overview and Scrutiny Committee", meeting_date="2018-09")
    meta = chunk_item(item, COUNTER, 180)[0].metadata
    assert meta["council_key"] == "sefton" and meta["meeting_year"] == 2018 and meta["meeting_month"] == 9
    assert (meta["date_start"], meta["date_end"]) == (20180901, 20180930)
    undated = chunk_item(MinuteItem(source_id="u", text="Minutes:\nText."), COUNTER, 180)[0].metadata
    assert "meeting_year" not in undated and "date_start" not in undated


@pytest.mark.slow
def test_nothing_embedded_exceeds_the_models_own_limit(minilm):
    """Measured with MiniLM's own tokenizer (256 word pieces): nothing may be silently truncated."""
    items = corpus_items()
    if DEV_CORPUS.is_file():
        for line in DEV_CORPUS.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            items.append(MinuteItem(source_id=row["url"], text=row["text"], council=row["council"],
                                    item_title=row["title"]))
    # Word-piece-hungry text: figures, codes and long words cost more pieces than cl100k tokens.
    dense = " ".join(f"KPI-{i:04d}/CSC({i % 7}.{i % 10}%) multiagency safeguarding" for i in range(200))
    items.append(MinuteItem(source_id="dense", text="Minutes:\n" + dense, council="Test Council",
                            item_title="A deliberately long item title " * 4))
    limit = minilm.max_tokens
    assert limit == 256  # read from the model's sentence_bert_config.json
    worst = 0
    for item in items:
        for chunk in chunk_item(item, COUNTER, 180, fits=minilm.fits):
            worst = max(worst, minilm.count_model_tokens(chunk.embed_text))
    assert worst <= limit


@pytest.mark.parametrize("after_the_list", [
    "5. Children Missing Education\nNumbers rose to 412.\nMembers were concerned.",
    "## 5. Children Missing Education\nNumbers rose to 412.",
    "Numbers rose to 412.",
    # Item texts may be cut short mid-sentence: a long line without its full stop is still minutes.
    "The Corporate Director introduced the Sufficiency Strategy and gave a presentation, which is attached to",
])
def test_minutes_after_a_background_papers_list_are_indexed_not_dropped(after_the_list):
    text = f"The Panel noted the fostering report.\nBackground papers:\nNone.\n{after_the_list}"
    chunks = chunk_item(MinuteItem(source_id="s", text=text, origin="s"), COUNTER, 180)
    indexed = " ".join(c.text for c in chunks)
    assert after_the_list.splitlines()[-1] in indexed and "None." not in indexed


def test_a_welsh_heading_after_a_background_papers_list_ends_the_list():
    # From the code review: a heading opening with an accented capital ('5. Ôl-ofal / Leaving Care') did not end the
    # list before it, so it, and the short lines after it, were dropped with the list.
    text = "The Panel noted the fostering report.\nBackground papers:\nNone.\n5. Ôl-ofal / Leaving Care\n89% housed."
    indexed = " ".join(c.text for c in chunk_item(MinuteItem(source_id="s", text=text, origin="s"), COUNTER, 180))
    assert "5. Ôl-ofal / Leaving Care" in indexed and "89% housed." in indexed and "None." not in indexed


def test_a_sentence_whose_second_line_starts_like_a_resolution_stays_in_its_block():
    """'... the Chairman gave the Sub-Committee's summary' / 'decision.' had opened a resolution block reading
    'decision.', cutting the sentence in two."""
    text = ("Minutes:\nUpon reconvening, the Chairman gave the Sub-Committee's summary\ndecision. The licence was "
            "refused.\nRESOLVED that the report be noted.")
    blocks = parse_blocks(text)
    assert [b.kind for b in blocks] == ["discussion", "resolution"]
    assert blocks[0].span.of(text).endswith("The licence was refused.")
