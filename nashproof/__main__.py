"""``python -m nashproof``: the same command line as the ``nashproof`` script."""

from .cli import entry

entry()
