"""The five national views as pure functions of the entities' current contributions.

Each view module holds the contribution an entity makes to the view (a small frozen
dataclass derived from its current state) and a function turning the contributions of one
view key into the JSON item the HTTP API, the CLI and the view topics serve.
"""
