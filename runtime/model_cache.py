"""The folder of models fetched from S3, shared by every process that serves from one /tmp.

On Lambda Managed Instances an execution environment runs several handler processes, each with
its own init and its own copy of the model, and one /tmp between them. So the cache never
assumes it is alone:
- a folder appears whole or not at all: files are written to a partial folder of this process
  and renamed into place; when another process got there first, its folder (checked like any
  cached copy) is used and the partial one dropped;
- a process holds a shared lock on each folder it serves, reads or writes (an flock on a file in
  the lock folder beside the cache); a folder is evicted only by a process that takes the
  exclusive lock, so never while another process holds it. A folder that fails its checks is
  taken away at once: it is bad for every process;
- partial folders are cleared only when the process that was writing them is gone;
- no lock is held while a model downloads: processes starting together each fetch, and none
  waits for another's download.
"""

from __future__ import annotations

import errno
import fcntl
import os
import shutil

PARTIAL = ".partial-"
DISCARDED = ".discarded-"


class ModelCache:
    def __init__(self, root: str):
        self.root = root
        self.locks = root + ".locks"
        self.held: dict[str, int] = {}  # folder name -> descriptor of its shared lock

    def folder(self, ident: str) -> str:
        return os.path.join(self.root, ident)

    def prepare(self) -> None:
        os.makedirs(self.root, exist_ok=True)
        os.makedirs(self.locks, exist_ok=True)
        self._clear_abandoned()

    # -- what this process uses ---------------------------------------------------------------

    def hold(self, ident: str) -> None:
        """Take a shared lock on ``ident``: from now on no process deletes its folder. Waits only
        while another process is deleting that folder."""
        if ident in self.held:
            return
        path = self._lock_path(ident)
        while True:
            fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
            fcntl.flock(fd, fcntl.LOCK_SH)
            if _same_file(fd, path):  # not the lock file of a folder deleted meanwhile
                self.held[ident] = fd
                return
            os.close(fd)

    def release(self, ident: str) -> None:
        fd = self.held.pop(ident, None)
        if fd is not None:
            os.close(fd)

    def keep_only(self, idents: list[str]) -> None:
        """Hold exactly ``idents`` (the folders this process serves or may go back to)."""
        for ident in list(self.held):
            if ident not in idents:
                self.release(ident)
        for ident in idents:
            self.hold(ident)

    # -- writing and dropping folders ---------------------------------------------------------

    def put(self, ident: str, files: dict[str, bytes]) -> None:
        """``files`` as the folder ``ident``, whole: unless another process put it first."""
        partial = os.path.join(self.root, f"{PARTIAL}{ident}-{os.getpid()}")
        shutil.rmtree(partial, ignore_errors=True)
        os.mkdir(partial)
        try:
            for name, data in files.items():
                with open(os.path.join(partial, name), "xb") as stream:
                    stream.write(data)
            self._rename_into_place(partial, self.folder(ident))
        finally:
            shutil.rmtree(partial, ignore_errors=True)  # a full /tmp keeps no half-written folder

    @staticmethod
    def _rename_into_place(partial: str, folder: str) -> None:
        """Rename unless ``folder`` is there; a folder taken away meanwhile leaves its name free."""
        for _ in range(3):
            try:
                os.rename(partial, folder)
                return
            except OSError as err:
                if err.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                    raise
                if os.path.isdir(folder):
                    return
        raise OSError(errno.EBUSY, f"{folder} kept changing while the model was put in place")

    def discard(self, ident: str) -> None:
        """Take away a folder that failed its checks, at once, held or not: the next fetch of
        ``ident`` finds the name free, and a process reading it fails its checks as this one did."""
        trash = os.path.join(self.root, f"{DISCARDED}{ident}-{os.getpid()}")
        shutil.rmtree(trash, ignore_errors=True)
        try:
            os.rename(self.folder(ident), trash)
        except OSError:
            return
        shutil.rmtree(trash, ignore_errors=True)

    def evict(self, keep: list[str]) -> None:
        """Delete every folder but ``keep`` that no process holds."""
        for entry in os.scandir(self.root):
            if not entry.is_dir(follow_symlinks=False) or entry.name.startswith((PARTIAL, DISCARDED)):
                continue
            if entry.name in keep or entry.name in self.held:
                continue
            self._delete_unheld(entry.name)

    def names(self) -> list[str]:
        return [e.name for e in os.scandir(self.root)
                if e.is_dir(follow_symlinks=False) and not e.name.startswith((PARTIAL, DISCARDED))]

    def _delete_unheld(self, ident: str) -> None:
        path = self._lock_path(ident)
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # another process serves or reads it
            os.close(fd)
            return
        try:
            if _same_file(fd, path):
                shutil.rmtree(self.folder(ident), ignore_errors=True)
                os.unlink(path)
        finally:
            os.close(fd)

    def _clear_abandoned(self) -> None:
        """Partial and discarded folders whose process is gone (or is this one: it writes one
        folder at a time)."""
        for entry in os.scandir(self.root):
            if entry.name.startswith((PARTIAL, DISCARDED)) and not _alive_other(entry.name.rsplit("-", 1)[-1]):
                shutil.rmtree(entry.path, ignore_errors=True)

    def _lock_path(self, ident: str) -> str:
        return os.path.join(self.locks, ident)


def _same_file(fd: int, path: str) -> bool:
    try:
        return os.stat(path).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


def _alive_other(pid: str) -> bool:
    """Whether ``pid`` names a running process other than this one."""
    if not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's: running
        return True
    return True
