"""The Companies House status adapter: registered statuses of the suppliers the hub knows."""
