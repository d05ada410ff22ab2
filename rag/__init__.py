"""Catalog retrieval: offline embeddings, the Chroma client and its health check, catalog
index sync and hybrid (semantic + lexical) product search (issue 3)."""
