"""The typed records passed between the pipeline's stages."""

from assistant.records import Hit, Retrieval


def test_the_first_items_of_a_retrieval_are_its_distinct_sources_in_rank_order():
    def hit(chunk: str, source: str) -> Hit:
        return Hit(chunk, "text", {"source_id": source}, 0.0)

    retrieval = Retrieval([hit("a1", "a"), hit("b1", "b"), hit("a2", "a"), hit("c1", "c"), hit("d1", "d")])
    assert retrieval.first_items(3) == ["a", "b", "c"]
    assert retrieval.first_items(10) == ["a", "b", "c", "d"]
    assert Retrieval([]).first_items(5) == []
