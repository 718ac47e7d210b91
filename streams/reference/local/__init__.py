"""Members' own LOCAL code maps, one <member-id>.yaml each."""
