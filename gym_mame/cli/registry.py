"""The commands of gym-mame, each registered by the module that defines it.

A command is a name, a one-line help text, a function that adds its arguments to its
parser, and a handler that runs it and returns the exit code. :func:`command` registers
one; :meth:`Registry.add_parsers` gives every registered command its sub-parser, in the
order they were registered.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from dataclasses import dataclass

Handler = Callable[[argparse.Namespace], int]
Arguments = Callable[[argparse.ArgumentParser], None]


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the examples' layout and appends "(default: X)" to each option's help, unless
    the help already says what the default is (options whose default is None or a flag)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if ("default" in text or default is None or default is False or default == []
                or default == argparse.SUPPRESS):
            return text
        if isinstance(default, list):
            default = " ".join(map(str, default))
        return f"{text} (default: {default})"


@dataclass(frozen=True)
class Command:
    """One sub-command: ``rom_exit`` is its exit code when a ROM is missing."""

    name: str
    help: str
    arguments: Arguments
    handler: Handler
    rom_exit: int = 1


class Registry:
    """Commands by name, in the order they were registered."""

    def __init__(self) -> None:
        self.commands: dict[str, Command] = {}

    def command(self, name: str, help: str, arguments: Arguments = lambda parser: None,
                rom_exit: int = 1) -> Callable[[Handler], Handler]:
        """Decorator: register the decorated handler as command ``name``."""
        def register(handler: Handler) -> Handler:
            if name in self.commands:
                raise ValueError(f"gym-mame command {name!r} is registered twice")
            self.commands[name] = Command(name, help, arguments, handler, rom_exit)
            return handler
        return register

    def __iter__(self) -> Iterator[Command]:
        return iter(self.commands.values())

    def __getitem__(self, name: str) -> Command:
        return self.commands[name]

    def add_parsers(self, parser: argparse.ArgumentParser) -> None:
        """One sub-parser per command under ``parser`` (its name lands in ``command``)."""
        sub = parser.add_subparsers(dest="command", title="commands", metavar="COMMAND")
        for cmd in self:
            cmd.arguments(sub.add_parser(
                cmd.name, help=cmd.help, description=cmd.help[0].upper() + cmd.help[1:] + ".",
                formatter_class=HelpFormatter))


REGISTRY = Registry()
command = REGISTRY.command
