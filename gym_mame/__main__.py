import sys

from gym_mame.cli import main

sys.exit(main())
