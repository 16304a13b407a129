"""The HTTP API (FastAPI): an app factory, shared dependencies and thin routers."""
