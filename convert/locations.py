"""Where the tool's own files are, and where it keeps what it fetches.

The same in a checkout and in an installed tool: TOOL holds convert/, runtime/, deploy/, bench/,
the Dockerfile and the requirements the image is built from (in a checkout, the repository's
root; installed, the lambda_tabular package).
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE = "lambda_tabular"
TOOL = Path(__file__).resolve().parents[1]
# Wheels, installed sites, scikit-learn releases, the Lambda emulator: $LAMBDA_TABULAR_CACHE,
# else the user's cache folder.
CACHE = Path(os.environ.get("LAMBDA_TABULAR_CACHE")
             or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "lambda-tabular")


def import_root() -> Path:
    """A folder holding only ``lambda_tabular`` (a link to TOOL): the PYTHONPATH entry that lets
    a child process import the tool without the rest of this environment's packages."""
    root = CACHE / "import-root"
    link = root / PACKAGE
    if link.is_symlink() and link.resolve() == TOOL:
        return root
    root.mkdir(parents=True, exist_ok=True)
    staged = root / f".{PACKAGE}.{os.getpid()}"
    staged.unlink(missing_ok=True)
    staged.symlink_to(TOOL, target_is_directory=True)
    staged.replace(link)
    return root
