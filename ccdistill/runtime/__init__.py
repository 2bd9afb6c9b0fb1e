"""Where and how the package runs: the CPU threads on a shared machine (`threads.py`), the device
and the processes of a training (`distributed.py`: one CPU, one GPU or several under `torchrun`),
and the software it runs on (`doctor.py`: versions, the device, the git commit, recorded with
every run and printed by `ccdistill doctor`).

This `__init__` imports nothing: `ccdistill/__init__.py` calls `threads.set_wait_policy` before
anything imports torch (OpenMP reads OMP_WAIT_POLICY once, when torch loads it).
"""
