"""BlueLight integration hub: partners' procurement events in, national category views out."""
