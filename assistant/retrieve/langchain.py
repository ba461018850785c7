"""The hybrid search as a LangChain retriever, so it composes with other chains."""

from __future__ import annotations

from assistant.retrieve.filters import Filters
from assistant.retrieve.hybrid import HybridRetriever


def langchain_retriever(retriever: HybridRetriever, filters: Filters = Filters(), k: int = 8,
                        known_councils: bool = True):
    """A LangChain BaseRetriever over the hybrid search, so it composes with other chains."""
    from langchain_core.documents import Document
    from langchain_core.retrievers import BaseRetriever

    from assistant.retrieve.question import analyse

    class MinutesRetriever(BaseRetriever):
        def _get_relevant_documents(self, query: str, *, run_manager=None) -> list[Document]:
            question = analyse(query, retriever.council_keys if known_councils else ())
            result = retriever.search(question, filters, k)
            return [Document(page_content=h.text, id=h.chunk_id,
                             metadata={**h.metadata, "chunk_id": h.chunk_id, "score": h.score}) for h in result.hits]

    return MinutesRetriever()
