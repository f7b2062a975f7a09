#!/usr/bin/env python3
"""Rewrite integration JSON files in one readable layout: a value that fits on one line
(at most 100 columns with its key and indentation) stays on one line, others open up.

    scripts/format_json.py integrations/*/*.json
"""

import json
import sys
from pathlib import Path

WIDTH = 100


def dump(value: object, indent: int = 0, prefix: str = "") -> str:
    flat = json.dumps(value, ensure_ascii=False)
    if len(flat) + indent + len(prefix) <= WIDTH or not isinstance(value, (dict, list)) \
            or not value:
        return flat
    pad = " " * (indent + 2)
    if isinstance(value, dict):
        items = []
        for key, item in value.items():
            head = json.dumps(key) + ": "
            items.append(pad + head + dump(item, indent + 2, head))
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    return "[\n" + ",\n".join(pad + dump(item, indent + 2) for item in value) + "\n" \
        + " " * indent + "]"


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
