"""Partner-side adapters: turn what ERPs and platforms produce into canonical events."""
