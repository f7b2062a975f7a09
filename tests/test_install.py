"""The README's install line for RLlib, as written, resolved by pip in a fresh environment
against the configured package index (``--dry-run``: nothing is downloaded but metadata):
it brings torch (RLlib's PPO needs it) and no CUDA packages onto this CPU machine."""

from __future__ import annotations

import json
import re
import subprocess
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_ray_install_line_brings_torch_and_no_cuda(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    lines = re.findall(r'`pip install "gym_mame\[(\w+)\]"`', readme.split("### RLlib", 1)[1])
    assert lines and lines[0] == "ray"  # the line the RLlib section starts with
    venv.create(tmp_path / "venv", with_pip=True)
    report = tmp_path / "report.json"
    # "gym_mame[ray]" as written, with this checkout for gym_mame
    out = subprocess.run([str(tmp_path / "venv" / "bin" / "python"), "-m", "pip", "install",
                          "--dry-run", "--ignore-installed", "--quiet", "--report", str(report),
                          f"{ROOT}[ray]"], capture_output=True, text=True, timeout=400)
    assert out.returncode == 0, out.stderr[-3000:]
    resolved = {i["metadata"]["name"].lower(): i["metadata"]["version"]
                for i in json.loads(report.read_text())["install"]}
    assert "ray" in resolved and resolved["torch"].startswith("2.13.0"), resolved
    cuda = sorted(n for n in resolved if n.startswith(("nvidia-", "cuda-")) or n == "triton")
    assert not cuda, f"CUDA packages pulled: {cuda}"
