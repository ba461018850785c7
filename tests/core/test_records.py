"""The typed records passed between the pipeline's stages."""

from assistant.records import Hit, Retrieval


def test_the_first_items_of_a_retrieval_are_its_distinct_sources_in_rank_order():
    def hit(chunk: str, source: str) -> Hit:
        return Hit(chunk, "text", {"source_id": source}, 0.0)

    retrieval = Retrieval([hit("a1", "a"), hit("b1", "b"), hit("a2", "a"), hit("c1", "c"), hit("d1", "d")])
    assert retrieval.first_items(3) == ["a", "b", "c"]
    assert retrieval.first_items(10) == ["a", "b", "c", "d"]
    assert Retrieval([]).first_items(5) == []


def test_an_answer_shows_the_citations_of_its_shown_sentences_only():
    from assistant.records import Answer, Citation, SentenceVerdict, marker_text

    cite = [Citation(n, f"item-{n}", "Council", "Committee", "2020", "Title", f"Quote {n}.", f"chunk-{n}")
            for n in (1, 2, 3)]
    sentences = [SentenceVerdict("Shown. [1][3]", (1, 3), True, True, 1.0),
                 SentenceVerdict("Left out. [2]", (2,), False, False, 0.0, "no citation")]
    answer = Answer("Q?", "Shown. [1][3]", False, None, "extractive", citations=cite, sentences=sentences)
    assert [c.marker for c in answer.shown_citations] == [1, 3]
    assert marker_text((1, 3)) == "[1][3]" and sentences[0].claim == "Shown."
