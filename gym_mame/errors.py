"""Exceptions raised by gym_mame. Each message says what happened and what to do."""

from __future__ import annotations


class GymMameError(Exception):
    """Base class of every gym_mame error."""


class MameNotFoundError(GymMameError):
    """No MAME executable could be found."""


class RomNotFoundError(GymMameError):
    """MAME could not find (or verify) the ROM set or cartridge a game needs."""

    def __init__(self, message: str, found: str = "") -> None:
        super().__init__(message)
        self.found = found  # what MAME reported, without the advice (for a caller's own)


class IntegrationError(GymMameError):
    """An integration folder is missing, unknown, or has an invalid file."""


class MameCrashedError(GymMameError):
    """The MAME process exited while the environment was using it."""

    def __init__(self, message: str, log: str = "") -> None:
        super().__init__(message)
        self.log = log  # MAME's last output


class MameTimeoutError(GymMameError):
    """MAME did not answer in time; it was stopped."""


class BridgeError(GymMameError):
    """MAME's Lua side rejected a request (the message comes from MAME)."""


class UnknownMachineError(GymMameError):
    """MAME has no such machine, or no such slot or media on it."""


class SaveStateError(GymMameError):
    """A save state file is missing, damaged, or made for another machine."""


class MissingExtraError(GymMameError):
    """An optional dependency (one of gym_mame's pip extras) is not installed."""


class UnknownNameError(IntegrationError):
    """A game, env id or MAME machine that does not exist; the message names the closest
    known ones."""
