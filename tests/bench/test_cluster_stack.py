"""The cluster stack: devtone on PostgreSQL and a Redis Cluster the run starts itself;
skipped, saying what to install, on a machine without redis-server or redis-cli."""

from dataclasses import replace
from pathlib import Path

import pytest

from bench.charts import chart_data
from bench.redis_cluster import LoopbackCluster, Node, cluster_missing
from bench.report import CLUSTER_NOTE, markdown, overview
from bench.run import PROFILES, Runner
from bench.servers import DevtoneServer


def no_redis_binaries(tmp_path: Path, monkeypatch, keep: tuple[str, ...] = ()) -> None:
    """An empty PATH and fallback folder, but for the executables named in `keep`."""
    for name in keep:
        (tmp_path / name).write_text("#!/bin/sh\n")
        (tmp_path / name).chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr("bench.redis_cluster.FALLBACK_DIR", tmp_path)


def test_without_redis_server_the_cluster_is_missing_with_the_package_to_install(
    tmp_path, monkeypatch
):
    no_redis_binaries(tmp_path, monkeypatch)

    assert cluster_missing() == "redis-server is not installed (apt-get install redis-server)"


def test_without_redis_cli_the_cluster_is_missing_with_the_package_to_install(
    tmp_path, monkeypatch
):
    no_redis_binaries(tmp_path, monkeypatch, keep=("redis-server",))

    assert cluster_missing() == "redis-cli is not installed (apt-get install redis-tools)"


def test_without_the_binaries_the_run_skips_the_cluster_stack_and_says_why(tmp_path, monkeypatch):
    no_redis_binaries(tmp_path, monkeypatch)
    profile = replace(
        PROFILES["full"], sizes=(100,), stacks=("embedded", "cluster"), reference=False
    )
    runner = Runner(profile, tmp_path / "out.jsonl", "r1")
    try:
        reference, stacks, skipped = runner.available()
    finally:
        runner.close()

    assert stacks == ["embedded"]
    assert skipped == {
        "devtone (cluster)": "redis-server is not installed (apt-get install redis-server)"
    }


def test_the_full_profile_runs_every_stack_and_the_quick_one_the_embedded_only():
    assert PROFILES["full"].stacks == ("embedded", "postgres", "cluster")
    assert PROFILES["quick"].stacks == ("embedded",)


def test_devtone_on_the_cluster_gets_every_node_its_own_channel_and_the_nodes_as_shared(
    tmp_path,
):
    cluster = LoopbackCluster(tmp_path / "cluster")
    cluster.nodes = [Node(30001 + i, FakeProcess(1000 + i)) for i in range(6)]
    server = DevtoneServer(tmp_path, 2_000, "cluster", "r1", cluster=cluster)
    server.database = "postgresql://postgres@127.0.0.1:5432/devtone_bench_x"

    env = server.env()

    assert env["REDIS_URL"] == "redis+cluster://" + ",".join(
        f"127.0.0.1:{30001 + i}" for i in range(6)
    )
    assert env["DATABASE_URL"] == server.database
    assert env["DEVTONE_REDIS_CHANNEL"] == f"devtone-bench:r1:{server.dir.name}"
    assert server.label == "devtone (cluster)"
    assert server.shared_pids() == [1000 + i for i in range(6)]


def test_the_cluster_stack_needs_a_cluster_and_only_it_takes_one(tmp_path):
    with pytest.raises(ValueError, match="LoopbackCluster"):
        DevtoneServer(tmp_path, 2_000, "cluster", "r1")
    with pytest.raises(ValueError, match="LoopbackCluster"):
        DevtoneServer(tmp_path, 2_000, "postgres", "r1", cluster=LoopbackCluster(tmp_path))


class FakeProcess:
    """A node's process as far as the bench reads it: a PID, still running."""

    def __init__(self, pid: int):
        self.pid = pid

    def poll(self) -> None:
        return None


def paced_pairs(stack: str, achieved: float) -> dict:
    return {
        "kind": "phase",
        "run": "r1",
        "server": "devtone",
        "stack": stack,
        "label": f"devtone ({stack})",
        "n": 1000,
        "transport": "sse",
        "shape": "paced_pairs",
        "posts": {"achieved_rate": achieved, "target_rate": 500.0},
        "delivery": {"latency": {"p50": 10.0, "p90": 20.0, "p99": 30.0}, "missing": 0},
        "cpu": {"server_pct": 90.0, "shared_pct": 12.0 if stack != "embedded" else None},
    }


RECORDS = [paced_pairs("cluster", 210.0), paced_pairs("embedded", 300.0)]
RECORDS.append(paced_pairs("postgres", 240.0))


def test_the_tables_list_the_stacks_in_order_and_say_what_the_cluster_rows_count():
    tables = markdown(RECORDS)
    headers = [line for line in tables.splitlines() if line.startswith("| figure")]

    assert [h.split("|")[2].strip() for h in headers] == [
        "devtone (embedded)",
        "devtone (postgres)",
        "devtone (cluster)",
    ]
    assert tables.count(CLUSTER_NOTE) == 1
    assert tables.index(CLUSTER_NOTE) > tables.index("| figure (N = 1,000) | devtone (cluster)")
    redis_cpu = [
        line
        for line in tables.splitlines()
        if line.startswith("| few publishers, pairs: Redis CPU")
    ]
    assert [line.split("|")[2].strip() for line in redis_cpu] == ["12 %", "12 %"]
    assert CLUSTER_NOTE in overview(RECORDS)


def test_each_stack_has_a_colour_of_its_own_on_the_charts():
    bars = chart_data(RECORDS)[("paced_pairs", 1000)]

    assert [bar.label for bar in bars] == [
        "devtone (embedded)",
        "devtone (postgres)",
        "devtone (cluster)",
    ]
    assert len({bar.colour for bar in bars}) == 3
