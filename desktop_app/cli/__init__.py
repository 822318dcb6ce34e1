"""The ``doppel`` command line: the same engine as the window, for scripts.

Each module is one family of commands; :mod:`.main` builds the parser and dispatches.
"""

from desktop_app.cli.main import gui_main, main

__all__ = ["gui_main", "main"]
