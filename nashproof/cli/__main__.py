"""``python -m nashproof.cli``: the same command line as the ``nashproof`` script."""

from . import entry

entry()
