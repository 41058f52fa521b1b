"""python -m lambda_tabular.deploy: the lambda-tabular command (deploy/cli.py)."""

import sys

from .cli import main

sys.exit(main())
