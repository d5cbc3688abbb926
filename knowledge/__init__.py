"""The knowledge base: schema, YAML content loading, queries and ranking.

Callers own the database session; nothing here opens one on its own.
"""
