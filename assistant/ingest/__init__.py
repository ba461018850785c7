"""Ingest: readers, minutes structure, chunking, and the ingest run that writes the index.

`from assistant.ingest import ingest` keeps working from before the package was split by stage.
"""


def __getattr__(name: str):
    if name == "ingest":
        from assistant.ingest.run import ingest

        return ingest
    raise AttributeError(name)
