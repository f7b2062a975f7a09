"""The package's layers, read from its imports: each module imports only from its own layer
and the layers below it (no arrow back up, so no circle between layers), and the package
root holds the public surface and the sub-packages, not the modules of a layer."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import gym_mame

pytestmark = pytest.mark.pure  # reads source files only

PACKAGE = Path(gym_mame.__file__).resolve().parent
# Bottom up. A layer may import the ones before it; the last row is the public surface.
LAYERS = [
    ("errors",),
    ("wire",),
    ("integration",),
    ("runtime",),
    ("envs",),
    ("sb3", "rllib", "studio", "tools"),
    ("agreement",),
    ("cli",),
    ("__init__", "__main__"),
]
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}


def layer_of(module: str) -> str:
    """``gym_mame.wire.bridge`` -> ``wire``; ``gym_mame`` -> ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imports(path: Path) -> set[str]:
    """The gym_mame modules ``path`` imports (``from gym_mame import X`` counts as the root
    unless X is a sub-package or module)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "gym_mame"}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 \
                and node.module.split(".")[0] == "gym_mame":
            if node.module == "gym_mame":
                for alias in node.names:
                    sub = PACKAGE / alias.name
                    is_module = sub.is_dir() or sub.with_suffix(".py").is_file()
                    found.add(f"gym_mame.{alias.name}" if is_module else "gym_mame")
            else:
                found.add(node.module)
    return found


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "static" not in p.parts)


def test_every_module_is_in_a_layer() -> None:
    unplaced = [str(p.relative_to(PACKAGE)) for p in modules()
                if (p.relative_to(PACKAGE).parts[0].removesuffix(".py")) not in RANK]
    assert unplaced == []


def test_no_module_imports_a_layer_above_its_own() -> None:
    upward = []
    for path in modules():
        own = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
        for module in imports(path):
            other = layer_of(module)
            if other in RANK and RANK[other] > RANK[own]:
                upward.append(f"{path.relative_to(PACKAGE)} imports {module}")
    assert upward == []


def test_the_root_holds_the_public_surface_and_the_sub_packages() -> None:
    root_modules = sorted(p.stem for p in PACKAGE.glob("*.py"))
    assert root_modules == ["__init__", "__main__", "errors", "rllib", "sb3"]
    for name in ("MameEnv", "MameVectorEnv", "Emulator", "parallel_env", "aec_env"):
        assert hasattr(gym_mame, name), name
