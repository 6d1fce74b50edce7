"""Charts: what each one shows, from records; a PNG written when matplotlib is there.

matplotlib comes with the `bench` extra only (with numpy and fonttools it is ~100 MB
installed, too much for every test run): the drawing test is skipped without it, the
numbers the charts show are checked always.
"""

import pytest

from bench.charts import chart_data


def record(server: str, shape: str, p50: float, achieved: float) -> dict:
    return {
        "kind": "phase",
        "run": "r1",
        "server": server,
        "label": "devtone (embedded)" if server == "devtone" else server,
        "n": 1000,
        "transport": "sse",
        "shape": shape,
        "posts": {"achieved_rate": achieved, "target_rate": 500.0},
        "delivery": {"latency": {"p50": p50, "p90": 2 * p50, "p99": 3 * p50}},
    }


RECORDS = [
    record("nchan", "paced_pairs", 0.3, 500.0),
    record("devtone", "paced_pairs", 10.0, 450.0),
    record("flask-sse", "paced_pairs", 16.0, 300.0),
]


def test_one_chart_per_shape_measured_with_devtone_first_then_the_references():
    charts = chart_data(RECORDS)

    assert list(charts) == [("paced_pairs", 1000)]
    bars = charts[("paced_pairs", 1000)]
    assert [bar.kind for bar in bars] == ["devtone", "flask-sse", "nchan"]
    assert bars[0].latency_ms == {"p50": 10.0, "p90": 20.0, "p99": 30.0}
    assert (bars[0].rate, bars[0].wanted) == (450.0, 500.0)


def test_a_chart_file_is_written_as_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    from bench.charts import draw

    (path,) = draw(RECORDS, tmp_path / "charts")

    assert path == tmp_path / "charts" / "paced_pairs.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
