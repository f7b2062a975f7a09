#!/usr/bin/env python3
"""Rewrite integration JSON files in one readable layout: a value that fits on one line
(at most 100 columns with its key and indentation) stays on one line, others open up.

    scripts/format_json.py integrations/*/*.json
"""

import json
import sys
from pathlib import Path

from gym_mame.jsonfile import dumps as dump


def main(paths: list[str]) -> int:
    for name in paths:
        path = Path(name)
        text = dump(json.loads(path.read_text())) + "\n"
        if text != path.read_text():
            path.write_text(text)
            print(f"formatted {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
