"""A Redis Cluster of our own on loopback: 3 masters and 3 replicas from Debian's
redis-server, joined by `redis-cli --cluster create`, each node stopped by its PID.

Used by the benchmark's `cluster` stack (bench/run.py) and by the tests' `redis_cluster`
fixture (tests/conftest.py), so it needs neither pytest nor anything of tests/: a failure
raises RuntimeError saying what went wrong.
"""

from __future__ import annotations

import contextlib
import random
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

#: Short, so a killed master's replica takes over within seconds (Redis's default is 15 s).
NODE_TIMEOUT_MS = 1000
#: Where Debian puts the binaries, when they are not on the PATH.
FALLBACK_DIR = Path("/usr/bin")
#: The binaries a cluster needs, and the Debian package of each.
PACKAGES = {"redis-server": "redis-server", "redis-cli": "redis-tools"}


def binary(name: str) -> str:
    """`name` as found on the PATH, else where Debian installs it (which may not exist)."""
    return shutil.which(name) or str(FALLBACK_DIR / name)


def cluster_missing() -> str | None:
    """None if this machine can start a cluster, else what to install."""
    for name, package in PACKAGES.items():
        if not Path(binary(name)).exists():
            return f"{name} is not installed (apt-get install {package})"
    return None


@dataclass
class Node:
    port: int
    process: subprocess.Popen

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=2, retry=Retry(NoBackoff(), 0))


class LoopbackCluster:
    """Six nodes, three masters with a replica each; `kill` one to see its replica promoted."""

    def __init__(self, directory: Path, size: int = 6):
        self.directory = directory
        self.binary = binary("redis-server")
        self.cli = binary("redis-cli")
        self.nodes: list[Node] = []
        self.size = size

    @property
    def url(self) -> str:
        """REDIS_URL for devtone: every node, as an operator would write it."""
        return "redis+cluster://" + ",".join(node.address for node in self.nodes)

    def start(self) -> LoopbackCluster:
        """Start the nodes, join them, wait until every slot is served and every replica
        has synced; on any failure stop what was started and raise RuntimeError."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        for _ in range(self.size):
            port = _free_pair()
            folder = self.directory / str(port)
            folder.mkdir(parents=True)
            process = subprocess.Popen(  # noqa: S603 - argv built here
                [self.binary, "--port", str(port), "--bind", "127.0.0.1"]
                + ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"]
                + ["--cluster-node-timeout", str(NODE_TIMEOUT_MS)]
                # A replica may take over however long ago it last heard its master, and
                # syncs at once (no diskless-sync wait), so a drill never finds it unfit.
                + ["--cluster-replica-validity-factor", "0"]
                + ["--repl-diskless-sync-delay", "0"]
                + ["--save", "", "--appendonly", "no", "--dir", str(folder)]
                + ["--logfile", str(folder / "redis.log")],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                # A Ctrl-C in the terminal reaches whoever started the cluster, which then
                # stops it by PID, not the nodes behind its back.
                start_new_session=True,
            )
            self.nodes.append(Node(port, process))
        for node in self.nodes:
            _wait(lambda node=node: node.client().ping(), f"{node.address} did not start")
        created = subprocess.run(  # noqa: S603 - argv built here
            [self.cli, "--cluster", "create", *(n.address for n in self.nodes)]
            + ["--cluster-replicas", "1", "--cluster-yes"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if created.returncode != 0:
            raise RuntimeError(
                f"redis-cli --cluster create failed:\n{created.stdout}{created.stderr}"
            )
        _wait(self._settled, "the cluster did not settle")

    def stop(self) -> None:
        """SIGTERM every node still running, then wait for each (SIGKILL after 5 s)."""
        for node in self.nodes:
            if node.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    node.process.send_signal(signal.SIGTERM)
        for node in self.nodes:
            try:
                node.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                node.process.kill()
                node.process.wait(timeout=5)

    def pids(self) -> list[int]:
        """The PIDs of the nodes still running (masters and replicas)."""
        return [node.pid for node in self._alive()]

    def masters(self) -> list[Node]:
        return [node for node in self._alive() if self._role(node) == "master"]

    def master_of(self, slot: int) -> Node:
        """The live master serving `slot` now (as a live master sees the slots)."""
        for row in self.masters()[0].client().execute_command("CLUSTER", "SLOTS"):
            first, last, master = row[0], row[1], row[2]
            if first <= slot <= last:
                return next(node for node in self.nodes if node.port == int(master[1]))
        raise AssertionError(f"no master serves slot {slot}")

    def replica_of(self, master: Node) -> Node:
        for node in self._alive():
            info = node.client().info("replication")
            if info.get("role") == "slave" and info.get("master_port") == master.port:
                return node
        raise AssertionError(f"{master.address} has no replica")

    def kill(self, node: Node) -> None:
        """SIGKILL: the master is gone at once, as a crashed host's would be."""
        node.process.send_signal(signal.SIGKILL)
        node.process.wait(timeout=5)

    def wait_promoted(self, replica: Node, timeout: float = 30) -> float:
        """Wait until `replica` is a master; the monotonic time it was first seen one."""
        _wait(lambda: self._role(replica) == "master", "the replica was not promoted", timeout)
        return time.monotonic()

    def _alive(self) -> list[Node]:
        return [node for node in self.nodes if node.process.poll() is None]

    def _role(self, node: Node) -> str:
        return node.client().info("replication")["role"]

    def _settled(self) -> bool:
        for node in self.nodes:
            client = node.client()
            if b"cluster_state:ok" not in client.execute_command("CLUSTER", "INFO"):
                return False
            info = client.info("replication")
            if info["role"] == "slave" and info.get("master_link_status") != "up":
                return False
        return True


def _free_pair() -> int:
    """A loopback port free with its cluster bus port (the port + 10,000, so below 55,536)."""
    for _ in range(100):
        port = random.randrange(20000, 50000)
        try:
            for candidate in (port, port + 10000):
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", candidate))
        except OSError:
            continue
        return port
    raise RuntimeError("no free pair of ports")


def _wait(check, failure: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (redis.RedisError, OSError):
            pass
        time.sleep(0.05)
    raise RuntimeError(failure)
