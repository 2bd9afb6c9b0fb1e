"""One training process per run folder: an exclusive lock held for the whole run.

The lock is `<output>/train.lock`, a small JSON file naming its holder (pid, host, start time).
Exclusion itself is an advisory `flock` on that file, which the kernel drops when the holder
exits in any way (SIGKILL included), so a lock left behind by a dead process is never mistaken
for a live one and is taken over with a message. Where `flock` is unavailable (no `fcntl`, or a
file system that refuses it), the lock falls back to the holder's pid: a lock whose pid is not
alive on this host is stale.
"""

from __future__ import annotations

import atexit
import errno
import json
import os
import socket
import time
from pathlib import Path

from ccdistill.errors import CCDistillError
from ccdistill.runfolder.names import LOCK_NAME

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

# The locks this process holds, by real folder path: a second Trainer on the same folder in one
# process (a re-run notebook cell) takes the lock over from an idle one instead of refusing.
_HELD: dict[str, "RunLock"] = {}


class RunLockedError(CCDistillError):
    """Another process is training in the same run folder."""


class RunFolderError(CCDistillError):
    """The run folder cannot be used (not a folder, not writable)."""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    except OSError:
        return False
    return True


def _describe(holder: dict) -> str:
    started = holder.get("started")
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started)) if isinstance(started, (int, float)) else "?"
    return f"pid {holder.get('pid', '?')} on host {holder.get('host', '?')}, started {when}"


class RunLock:
    """Exclusive lock on a run folder; `acquire()` creates the folder if needed.

    `messages` collects what the user should be told (a stale lock taken over).
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self.messages: list[str] = []
        self._fd: int | None = None
        self._created_folder = False
        self.busy = False  # set while training; an idle lock may be taken over in-process

    @property
    def held(self) -> bool:
        return self._fd is not None

    def _prepare_folder(self) -> None:
        if self.folder.exists() and not self.folder.is_dir():
            raise RunFolderError(f"output {self.folder} is a file, not a folder; set output= to a folder "
                                 "(it is created if missing), e.g. output=runs/toycity")
        if not self.folder.exists():
            try:
                self.folder.mkdir(parents=True)
            except FileExistsError:
                pass
            except OSError as error:
                raise RunFolderError(f"cannot create the run folder {self.folder} ({error.strerror}); "
                                     "choose a writable output= folder") from None
            else:
                self._created_folder = True

    def acquire(self) -> "RunLock":
        """Take the lock or raise RunLockedError naming the process that holds it."""
        if self.held:
            return self
        self._take_over_in_process()
        self._prepare_folder()
        for _ in range(10):  # retried only when the holder released between open and lock
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as error:
                raise RunFolderError(f"cannot create the lock file {self.path} ({error.strerror}); "
                                     "choose a writable output= folder") from None
            previous = _read(fd)
            if not self._lock(fd, previous):
                continue
            self._fd = fd
            if previous:
                self.messages.append(
                    f"took over the lock of {self.folder} left by {_describe(previous)}, which is no "
                    "longer running (it was killed or crashed)")
            self._write_holder()
            _HELD[os.path.realpath(self.folder)] = self
            return self
        raise RunLockedError(f"could not lock {self.path}: another process keeps replacing it; "
                             "stop the other trainings on this folder")

    def _take_over_in_process(self) -> None:
        other = _HELD.get(os.path.realpath(self.folder))
        if other is None or other is self:
            return
        if other.busy:
            raise RunLockedError(f"this process is already training in {self.folder}; wait for that "
                                 "training to finish or choose another output= folder")
        # The folder stays: it is this lock's to remove now, if it created it.
        self._created_folder, other._created_folder = other._created_folder, False
        other.release()
        self.messages.append(f"took over the lock of {self.folder} from an earlier Trainer of this "
                             "process (e.g. a notebook cell run again); that Trainer can no longer train")

    def _lock(self, fd: int, previous: dict) -> bool:
        """True if `fd` now holds the lock of the file still at self.path."""
        try:
            if fcntl is None:
                raise OSError(errno.ENOSYS, "no fcntl")
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            holder = previous or {}
            raise RunLockedError(
                f"run folder {self.folder} is in use by another training ({_describe(holder)}; "
                f"lock file {self.path}). Wait for it to finish, stop it (kill {holder.get('pid', 'PID')}), "
                "or choose another output= folder") from None
        except OSError as error:
            if error.errno not in (errno.ENOSYS, errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL):
                os.close(fd)
                raise
            # No flock here: fall back to the holder's pid.
            if (previous and previous.get("host") == socket.gethostname()
                    and previous.get("pid") != os.getpid() and _pid_alive(int(previous.get("pid", -1)))):
                os.close(fd)
                raise RunLockedError(
                    f"run folder {self.folder} is in use by another training ({_describe(previous)}; "
                    f"lock file {self.path}). Wait for it to finish, stop it, or choose another output= "
                    "folder") from None
        try:
            same_file = os.fstat(fd).st_ino == os.stat(self.path).st_ino
        except FileNotFoundError:
            same_file = False
        if not same_file:  # the holder unlinked it while we opened it: lock the new one
            os.close(fd)
        return same_file

    def _write_holder(self) -> None:
        info = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, json.dumps(info).encode(), 0)
        os.fsync(self._fd)

    def release(self) -> None:
        """Drop the lock and remove the lock file (and the folder, if this lock created it and
        nothing else was written there)."""
        if self._fd is None:
            return
        # Unlink while still holding the lock, so a waiter never locks a file about to vanish.
        self.path.unlink(missing_ok=True)
        os.close(self._fd)
        self._fd = None
        if _HELD.get(os.path.realpath(self.folder)) is self:
            del _HELD[os.path.realpath(self.folder)]
        if self._created_folder:
            try:
                self.folder.rmdir()  # only succeeds when empty
            except OSError:
                pass
            self._created_folder = False

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()

    def __del__(self) -> None:
        try:
            self.release()
        except Exception:
            pass


def _read(fd: int) -> dict:
    """The holder recorded in a lock file; {} if empty, placeholders if unreadable."""
    try:
        data = os.pread(fd, 4096, 0)
    except OSError:
        return {}
    if not data:
        return {}
    try:
        holder = json.loads(data.decode())
    except ValueError:
        holder = None
    return holder if isinstance(holder, dict) else {"pid": "?", "host": "?"}


@atexit.register
def _release_all() -> None:
    """A normal interpreter exit removes the lock files this process still holds."""
    for lock in list(_HELD.values()):
        lock.release()
