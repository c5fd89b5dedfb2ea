"""`python -m bot`: the `debrief` command line, which lives in bot/cli/."""

import sys

from bot.cli import main

if __name__ == "__main__":
    sys.exit(main())
