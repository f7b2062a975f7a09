"""Tools for integrating a game: search MAME's machines, list a machine's inputs,
validate an integration, record and replay play, rebuild start states. The ``gym-mame``
command's ``machines``, ``ports``, ``validate``, ``record``, ``replay`` and ``make-state``
sub-commands."""
