"""A machine's input ports and fields, for writing an integration's ``inputs``.

The ports come from the running machine (the bridge's ``describe``: tag, field
name, analog or digital, player, min/max/default); analog controls' sensitivity
and key delta come from ``mame -listxml`` (MAME lists them per control type and
player, not per field).
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Any

from gym_mame.wire.bridge import MameBridge, find_mame
from gym_mame.wire.mameinfo import run_mame


def machine_description(machine: str, media: dict[str, str] | None = None,
                        rom_paths: Sequence[str | os.PathLike[str]] = (),
                        mame: str | None = None) -> dict[str, Any]:
    """Start ``machine`` headless and return the bridge's description of it."""
    with MameBridge(machine, media=media, rom_paths=rom_paths, mame_path=mame) as bridge:
        return bridge.describe()


def analog_controls(machine: str, mame: str | None = None) -> list[dict[str, str]]:
    """The ``<control>`` entries of ``mame -listxml`` with a sensitivity (analog ones)."""
    out = run_mame(find_mame(mame), "-listxml", machine, timeout=60).stdout
    try:
        root = ET.fromstring(out)
    except ET.ParseError:
        return []
    node = next((m for m in root.iter("machine") if m.get("name") == machine), None)
    if node is None:
        return []
    return [dict(c.attrib) for c in node.iter("control") if "sensitivity" in c.attrib]


def format_ports(description: dict[str, Any], controls: Sequence[dict[str, str]] = ()) -> str:
    """A readable listing of every port and field, ready to copy into ``metadata.json``."""
    lines = [f"{description['system']} (MAME {description['mame_version']})"]
    for screen in description.get("screens", []):
        lines.append(f"screen {screen['tag']}: {screen['width']}x{screen['height']} "
                     f"at {float(screen['refresh']):.2f} Hz")
    n_fields = sum(len(p["fields"]) for p in description["ports"])
    lines.append(f"{len(description['ports'])} input ports, {n_fields} fields:")
    for port in description["ports"]:
        lines.append(f"  port {port['tag']!r}")
        for f in port["fields"]:
            player = f" player {f['player'] + 1}" if f.get("player") is not None else ""
            if f["analog"]:
                kind = (f"analog  min {f['min']} max {f['max']} default {f['default']}")
            else:
                kind = "digital"
            lines.append(f"    {f['name']!r:32} {kind}{player}")
    if controls:
        lines.append("analog controls (mame -listxml):")
        for c in controls:
            extra = " ".join(f"{k} {v}" for k, v in c.items() if k not in ("type", "player"))
            lines.append(f"  {c.get('type', '?')} player {c.get('player', '?')}: {extra}")
    lines.append('An input in metadata.json: {"port": "<port>", "field": "<field>"}, '
                 'plus "analog": {"min", "max", "initial"} for analog fields.')
    return "\n".join(lines)
