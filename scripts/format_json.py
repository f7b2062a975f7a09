#!/usr/bin/env python3
"""Rewrite integration JSON files in one readable layout: a value that fits on one line
(at most 100 columns with its key and indentation) stays on one line, others open up.

    scripts/format_json.py integrations/*/*.json
"""

import sys
from pathlib import Path

from gym_mame.integration.jsonfile import dumps as dump
from gym_mame.integration.jsonfile import load_json


def main(paths: list[str]) -> int:
    for name in paths:
        path = Path(name)
        text = dump(load_json(path)) + "\n"
        if text != path.read_text():
            path.write_text(text)
            print(f"formatted {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
