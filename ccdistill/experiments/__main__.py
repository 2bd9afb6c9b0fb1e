"""`python -m ccdistill.experiments run|status|table|figures`."""

import sys

from ccdistill.experiments.cli import main

sys.exit(main())
