"""Index: the embedder, the vector store, the keyword index, the manifest and the bundled models."""
