"""A Spark standalone cluster on loopback for tests: one master and two workers, started from the
pyspark wheel's own ``bin/spark-class``.

The wheel carries everything a standalone cluster needs, so the scale-out path (a ``spark://``
master, executors in other JVMs) is tested with no Spark download. Every daemon listens on
127.0.0.1 at ports picked free, keeps its work and log folders under the given folder, and runs in
its own session so that ``stop()`` can end it and whatever it started (executors) as one group.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pyspark

SPARK_CLASS = Path(pyspark.__file__).parent / "bin" / "spark-class"
HOST = "127.0.0.1"
MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def java_home() -> str:
    """``JAVA_HOME`` of the ``java`` on the path (``spark-class`` prefers it when it is set)."""
    if os.environ.get("JAVA_HOME"):
        return os.environ["JAVA_HOME"]
    java = shutil.which("java")
    if java is None:
        raise RuntimeError("no java on the PATH: Spark needs Java 17 or 21")
    return str(Path(java).resolve().parent.parent)


def get_json(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


class SparkStandaloneCluster:
    """``start()`` a master and ``workers`` workers of ``cores`` cores each, ``stop()`` them."""

    def __init__(self, folder: Path, workers: int = 2, cores: int = 1, memory: str = "1g") -> None:
        self.folder = folder
        self.workers, self.cores, self.memory = workers, cores, memory
        self.port, self.webui_port = free_port(), free_port()
        self.worker_webui_ports = [free_port() for _ in range(workers)]
        self._processes: list[subprocess.Popen] = []
        self._logs: list[Path] = []

    @property
    def master_url(self) -> str:
        return f"spark://{HOST}:{self.port}"

    def master_state(self) -> dict[str, Any]:
        """The master's state as its web UI serves it: workers, running and finished apps."""
        return get_json(f"http://{HOST}:{self.webui_port}/json/")

    def worker_states(self) -> list[dict[str, Any]]:
        """Each worker's state: its running and finished executors, with their application."""
        return [get_json(f"http://{HOST}:{port}/json/") for port in self.worker_webui_ports]

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "JAVA_HOME": java_home(),
            "SPARK_LOCAL_IP": HOST,
            "SPARK_LOG_DIR": str(self.folder / "logs"),
            # The daemons would otherwise read a conf folder inside the wheel, or the user's.
            "SPARK_CONF_DIR": str(self.folder / "conf"),
            # Executors start Python workers with the driver's interpreter; keep it this one.
            "PYSPARK_PYTHON": sys.executable,
        }

    def _launch(self, name: str, *args: str) -> None:
        log = self.folder / "logs" / f"{name}.log"
        self._logs.append(log)
        with log.open("wb") as out:
            self._processes.append(
                subprocess.Popen(
                    [str(SPARK_CLASS), *args],
                    env=self.env(),
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
            )

    def start(self, timeout: float = 120) -> SparkStandaloneCluster:
        for sub in ("logs", "conf"):
            (self.folder / sub).mkdir(parents=True, exist_ok=True)
        try:
            self._launch(
                "master", MASTER_CLASS, "--host", HOST, "--port", str(self.port),
                "--webui-port", str(self.webui_port),
            )  # fmt: skip
            for n, webui in enumerate(self.worker_webui_ports):
                work = self.folder / f"worker-{n}"
                work.mkdir(exist_ok=True)
                self._launch(
                    f"worker-{n}", WORKER_CLASS, self.master_url, "--host", HOST,
                    "--cores", str(self.cores), "--memory", self.memory,
                    "--webui-port", str(webui), "--work-dir", str(work),
                )  # fmt: skip
            self._wait_for_workers(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_for_workers(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        state: dict[str, Any] = {}
        while time.monotonic() < deadline:
            exited = [p.args[1] for p in self._processes if p.poll() is not None]
            if exited:
                raise RuntimeError(f"Spark daemon exited early: {exited}; {self.log_tail()}")
            try:
                state = self.master_state()
            except (OSError, ValueError):  # not listening yet, or a page that is not JSON yet
                state = {}
            alive = [w for w in state.get("workers", []) if w.get("state") == "ALIVE"]
            if len(alive) == self.workers:
                return
            time.sleep(0.5)
        raise RuntimeError(
            f"{self.workers} workers not registered within {timeout:.0f} s "
            f"(master said {state.get('workers')}); {self.log_tail()}"
        )

    def log_tail(self, lines: int = 15) -> str:
        parts = []
        for log in self._logs:
            if log.exists():
                tail = log.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- {log.name}\n" + "\n".join(tail))
        return "\n".join(parts)

    def stop(self) -> None:
        """End every daemon's process group (workers first, then the master) and wait for it."""
        for process in reversed(self._processes):
            try:  # the group, even when its leader is gone: executors are in the worker's group
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        for process in reversed(self._processes):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        self._processes.clear()
