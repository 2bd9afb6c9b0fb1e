"""`python -m ccdistill.cli` (used under `torchrun ... -m ccdistill.cli train`)."""

import sys

from ccdistill.cli import main

sys.exit(main())
