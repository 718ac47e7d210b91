"""``bluelight demo``: the whole hub on this machine with synthetic partners (docs/demo.md)."""
