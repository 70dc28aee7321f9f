"""``python -m gateway`` runs the ``lingang`` command."""

import sys

from gateway.cli import main

if __name__ == "__main__":  # not when multiprocessing's spawn re-imports it in a child
    sys.exit(main())
