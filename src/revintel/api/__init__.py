"""The REST API (FastAPI): thin routes over the same services the CLI and dashboard use."""
