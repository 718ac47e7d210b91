"""Stream processors: ingest, the views stage, and the worker that runs them."""
