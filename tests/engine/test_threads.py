"""The thread policy: OMP_WAIT_POLICY=PASSIVE before torch loads, unless the user chose."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ccdistill.errors import ConfigError
from ccdistill.runtime.threads import thread_setting


def _in_fresh_python(code: str, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "CCDISTILL_THREADS")}
    return subprocess.run([sys.executable, "-c", code], env={**clean, **env}, check=True,
                          capture_output=True, text=True).stdout.strip()


SHOW = "import os, ccdistill, torch; print(os.environ.get('OMP_WAIT_POLICY'))"


def test_importing_ccdistill_sets_a_passive_wait_policy_before_torch_loads():
    assert _in_fresh_python(SHOW) == "PASSIVE"


def test_the_user_keeps_their_own_wait_policy_and_can_switch_the_policy_off():
    assert _in_fresh_python(SHOW, OMP_WAIT_POLICY="ACTIVE") == "ACTIVE"
    assert _in_fresh_python(SHOW, CCDISTILL_THREADS="off") == "None"


def test_a_thread_count_is_applied_by_configure_threads():
    code = "import ccdistill.runtime.threads as t, torch; t.configure_threads(); print(torch.get_num_threads())"
    assert _in_fresh_python(code, CCDISTILL_THREADS="1") == "1"


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5"])
def test_a_bad_setting_is_one_sentence_naming_the_variable(value):
    with pytest.raises(ConfigError, match=r"CCDISTILL_THREADS=.*whole number"):
        thread_setting(value)
