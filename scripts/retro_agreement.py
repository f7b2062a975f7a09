#!/usr/bin/env python3
"""Benchmark: agreement of the stable-retro games' integrations with stable-retro.

Same as ``gym-mame agreement --retro``; see gym_mame/agreement/retro.py for the protocol:

    .venv/bin/python scripts/retro_agreement.py --episodes 30 --markdown table.md
"""

import sys

from gym_mame.cli import main

if __name__ == "__main__":
    sys.exit(main(["agreement", "--retro", *sys.argv[1:]]))
