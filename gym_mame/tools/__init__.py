"""Tools for integrating a game: search MAME's machines, list a machine's inputs,
validate an integration, record and replay play. The ``gym-mame`` command's
``machines``, ``ports``, ``validate``, ``record`` and ``replay`` sub-commands."""
