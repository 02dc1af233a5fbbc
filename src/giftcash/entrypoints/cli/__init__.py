"""The ``giftcash`` command line; ``giftcash.entrypoints.cli:run`` is the console script.

The root app is in ``app.py``; each command module adds nothing to it by itself."""

from giftcash.entrypoints.cli.app import app, run
from giftcash.entrypoints.cli.common import console, err_console

__all__ = ["app", "console", "err_console", "run"]
