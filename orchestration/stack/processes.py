"""Long-running services as process groups with pid files, and a sweep for anything left over.

Each service starts in a session of its own, so its pid is also its process group and every
child it forks (API workers, the LocalExecutor's workers) can be stopped with it. The pid file
holds the pid and the process's start time: a pid reused by an unrelated process after a reboot
is never taken for the service, nor signalled. Every process also carries ``MARKER`` in its
environment, naming the stack's folder, so ``down`` (and the tests) can find a process that left
its group, by reading ``/proc`` — never by matching command names, which would hit other stacks.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

#: Environment variable set in every process of a stack; its value is the stack's folder.
MARKER = "CREDITLAKE_STACK_DIR"


def _start_time(pid: int) -> str | None:
    """Field 22 of ``/proc/<pid>/stat`` (clock ticks since boot); None if no such live process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its closing one.
    fields = stat.rsplit(")", 1)[1].split()
    return None if fields[0] == "Z" else fields[19]


def _group_members(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry.name))
    return members


def marked_processes(stack_dir: Path) -> list[int]:
    """Live processes whose environment names this stack (those this user may read)."""
    needle = f"{MARKER}={stack_dir}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        if needle in environ.split(b"\0") and state != "Z":
            found.append(int(entry.name))
    return found


@dataclass(frozen=True)
class Service:
    """One long-running process of the stack, its pid file and its log."""

    name: str
    run_dir: Path
    log_dir: Path

    @property
    def pid_file(self) -> Path:
        return self.run_dir / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.log_dir / f"{self.name}.log"

    def pid(self) -> int | None:
        """The service's pid if its process is alive and is the one that was started."""
        try:
            pid_text, started = self.pid_file.read_text().split()
        except (FileNotFoundError, ValueError):
            return None
        pid = int(pid_text)
        return pid if _start_time(pid) == started else None

    def start(self, command: list[str], env: dict[str, str], cwd: Path) -> int:
        """Start ``command`` in a new session, its output appended to the service's log."""
        if self.pid() is not None:
            return self.pid()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            process = subprocess.Popen(
                command,
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pid_file.write_text(f"{process.pid} {_start_time(process.pid)}\n")
        return process.pid

    def exited_early(self) -> str | None:
        """Why the service is not running although it was started: the end of its log."""
        if self.pid() is not None:
            return None
        if not self.log_file.is_file():
            return "(no log)"
        return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-15:])

    def stop(self, timeout: float = 30.0) -> None:
        stop_all([self], timeout)


def stop_all(services: list[Service], timeout: float = 30.0) -> None:
    """SIGTERM to every service's process group at once, SIGKILL to what is left after
    ``timeout``; then the pid files go."""
    groups = [pid for pid in (service.pid() for service in services) if pid is not None]
    for pgid in groups:
        _signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while any(_group_members(pgid) for pgid in groups) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pgid in groups:
        if _group_members(pgid):
            _signal_group(pgid, signal.SIGKILL)
    while any(_group_members(pgid) for pgid in groups) and time.monotonic() < deadline + 5:
        time.sleep(0.1)
    for service in services:
        service.pid_file.unlink(missing_ok=True)


def _signal_group(pgid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signum)


def kill_marked(stack_dir: Path, timeout: float = 10.0) -> list[int]:
    """Stop every process still marked with this stack (those that left their group)."""
    leftover = marked_processes(stack_dir)
    for pid in leftover:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while marked_processes(stack_dir) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in marked_processes(stack_dir):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return leftover
