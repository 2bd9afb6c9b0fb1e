"""`python -m ccdistill`: the `ccdistill` console script."""

import sys

from ccdistill.cli import main

sys.exit(main())
