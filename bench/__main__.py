"""`python -m bench ...` (and `torchrun ... -m bench ...`), the same as `linreg-bench ...`."""

import sys

from bench.cli.main import main

sys.exit(main())
