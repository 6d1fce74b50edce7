"""The tables: devtone beside flask-sse and nchan, and devtone ÷ each, on every row."""

from bench.report import markdown


def paced_pairs(server: str, achieved: float, p99: float) -> dict:
    return {
        "kind": "phase",
        "run": "r1",
        "server": server,
        "label": server if server != "devtone" else "devtone (embedded)",
        "n": 1000,
        "transport": "sse",
        "shape": "paced_pairs",
        "posts": {"achieved_rate": achieved, "target_rate": 500.0},
        "delivery": {
            "latency": {"p50": p99 / 2, "p99": p99},
            "missing": 0,
            "duplicate": 0,
            "out_of_order": 0,
        },
        "cpu": {"server_pct": 50.0},
    }


def row(table: str, starts: str) -> list[str]:
    (line,) = [line for line in table.splitlines() if line.startswith(f"| {starts}")]
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_every_row_gives_both_references_and_devtone_divided_by_each():
    table = markdown(
        [
            paced_pairs("devtone", 400.0, 30.0),
            paced_pairs("flask-sse", 200.0, 60.0),
            paced_pairs("nchan", 500.0, 1.5),
        ]
    )

    header = row(table, "figure")
    assert header[1:6] == [
        "devtone (embedded)",
        "flask-sse",
        "nchan",
        "devtone ÷ flask-sse",
        "devtone ÷ nchan",
    ]
    achieved = row(table, "few publishers, pairs, 500 msg/s wanted: achieved")
    assert achieved[1:6] == ["400 msg/s", "200 msg/s", "500 msg/s", "2.00×", "0.80×"]
    p99 = row(table, "few publishers, pairs: delivery p99")
    assert p99[4:6] == ["0.50×", "20.00×"]
    assert "↑ higher is better, so a ratio above 1× is devtone ahead" in table


def test_a_reference_that_did_not_run_keeps_its_columns_with_dashes():
    table = markdown([paced_pairs("devtone", 400.0, 30.0), paced_pairs("flask-sse", 200.0, 60.0)])

    achieved = row(table, "few publishers, pairs, 500 msg/s wanted: achieved")
    assert achieved[1:6] == ["400 msg/s", "200 msg/s", "–", "2.00×", "–"]
