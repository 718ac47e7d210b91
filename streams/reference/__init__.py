"""Reference data: the national taxonomy and its code maps (YAML, read by streams.categories)."""
