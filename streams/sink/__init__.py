"""Sinks that copy the view topics into other stores (``bluelight sink ...``)."""
