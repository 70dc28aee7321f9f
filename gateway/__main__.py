"""``python -m gateway`` runs the ``lingang`` command."""

import sys

from gateway.cli import main

sys.exit(main())
