"""Retrieve: hybrid dense and BM25 search, filters, question analysis, and the LangChain retriever.

`assistant.retrieve.Filters`, `HybridRetriever` and `langchain_retriever` keep working from before the
package was split by stage; they load on first use.
"""


def __getattr__(name: str):
    if name == "Filters":
        from assistant.retrieve.filters import Filters

        return Filters
    if name == "HybridRetriever":
        from assistant.retrieve.hybrid import HybridRetriever

        return HybridRetriever
    if name == "langchain_retriever":
        from assistant.retrieve.langchain import langchain_retriever

        return langchain_retriever
    raise AttributeError(name)
