"""The declared shape of the hub: members, topics, users and ACLs."""
