"""Stop a training cleanly on SIGTERM (what job schedulers send) or SIGINT (Ctrl-C, a notebook's
interrupt): the first signal asks the loop to stop after the step in progress, which then saves a
checkpoint at the current iteration; a second signal stops at once, as Python would."""

from __future__ import annotations

import signal
import threading
from types import FrameType

from ccdistill.errors import CCDistillError

SIGNALS = (signal.SIGTERM, signal.SIGINT)


class TrainingInterrupted(CCDistillError):
    """A training stopped on a signal after saving a checkpoint. `signal_number` is the signal
    (a command line may exit with 128 + signal_number, as shells do)."""

    def __init__(self, message: str, signal_number: int) -> None:
        super().__init__(message)
        self.signal_number = signal_number


class StopRequest:
    """Context manager that turns SIGTERM/SIGINT into a flag the training loop polls.

    Installs its handlers only in the main thread (Python delivers signals there alone), and
    restores the previous handlers on exit. `announce(text)` tells the user what happens next.
    """

    def __init__(self, announce=print) -> None:
        self.signal_number: int | None = None
        self._announce = announce
        self._previous: dict[int, object] = {}

    @property
    def requested(self) -> bool:
        return self.signal_number is not None

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.signal_number).name if self.signal_number else ""

    def _handle(self, number: int, frame: FrameType | None) -> None:
        if self.requested:  # a second signal: stop now; the atomic writes keep files whole
            self._restore()
            raise KeyboardInterrupt
        self.signal_number = number
        self._announce(f"received {signal.Signals(number).name}: stopping after the current step and saving a "
                       "checkpoint (send it again to stop at once without saving)")

    def __enter__(self) -> "StopRequest":
        if threading.current_thread() is threading.main_thread():
            for number in SIGNALS:
                self._previous[number] = signal.signal(number, self._handle)
        return self

    def _restore(self) -> None:
        for number, handler in self._previous.items():
            # None: a handler not installed from Python; the default is the closest.
            signal.signal(number, handler if handler is not None else signal.SIG_DFL)
        self._previous = {}

    def __exit__(self, *exc) -> None:
        self._restore()
