"""The event contract: Avro schemas, the models that mirror them, validation and wire format.

Nothing is loaded at import; schemas are parsed on first use (schemas.serde.catalogue()).
"""
