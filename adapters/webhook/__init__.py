"""The HTTP adapter for ERPs that push: canonical events over POST, one token per member."""
