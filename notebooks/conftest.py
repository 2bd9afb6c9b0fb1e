"""nbval collects the solution notebooks of this folder, not the generated student copies (which
raise NotImplementedError by design), and runs them under the `ci` profile: the kernels nbval
starts inherit this environment. `make test` sets CCDISTILL_PROFILE=ci itself; this default
covers a bare `pytest --nbval-lax notebooks`. nbval never writes outputs back to the files."""

import os

os.environ.setdefault("CCDISTILL_PROFILE", "ci")
collect_ignore_glob = ["students/*", ".ipynb_checkpoints/*"]
