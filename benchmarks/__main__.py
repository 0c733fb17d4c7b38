"""``python -m benchmarks``: the same as ``python benchmarks/run.py``."""

import sys

from .run import main

sys.exit(main())
