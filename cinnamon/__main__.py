"""``python -m cinnamon``: the command line."""

import sys

from cinnamon._cli import main

if __name__ == "__main__":
    sys.exit(main())
