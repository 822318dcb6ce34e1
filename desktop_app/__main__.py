"""Entry point for ``python -m desktop_app``; the same as the ``doppel`` console script."""

import sys

from desktop_app.cli import main

sys.exit(main())
