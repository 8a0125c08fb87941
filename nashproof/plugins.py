"""Loading the user's own Python code (claim modules, audited update rules) by path or import path.

This runs the user's module, as importing it would; it is never applied to data files.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from .errors import InputError


def import_user_module(target: str, what: str) -> ModuleType:
    """``path/to/file.py`` or ``package.module``; any failure is one InputError naming ``what``."""
    try:
        if target.endswith(".py") or Path(target).is_file():
            path = Path(target)
            if not path.is_file():
                raise InputError(f"{what} not found: {target}")
            spec = importlib.util.spec_from_file_location(f"nashproof_user_{path.stem}", path)
            if spec is None or spec.loader is None:
                raise InputError(f"cannot load {what} {target}")
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            spec.loader.exec_module(module)
            return module
        return importlib.import_module(target)
    except InputError:
        raise
    except BaseException as exc:  # the user's module failed to import (SystemExit included)
        raise InputError(f"cannot import {what} {target}: {type(exc).__name__}: {exc}") from None
