"""The loopback Redis Cluster lives in bench/redis_cluster.py, which the benchmark's cluster
stack starts too; this name stays for anything that imports it from here."""

from bench.redis_cluster import NODE_TIMEOUT_MS, LoopbackCluster, Node, cluster_missing

__all__ = ["NODE_TIMEOUT_MS", "LoopbackCluster", "Node", "cluster_missing"]
