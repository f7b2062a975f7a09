#!/usr/bin/env python3
"""Benchmark: agreement of the Atari 2600 integrations with the Arcade Learning Environment.

Same as ``gym-mame agreement``; see gym_mame/agreement/ale.py for the protocol. Example:

    .venv/bin/python scripts/ale_agreement.py --jobs 2 --markdown docs/ale_agreement.md
"""

import sys

from gym_mame.cli import main

if __name__ == "__main__":
    sys.exit(main(["agreement", *sys.argv[1:]]))
