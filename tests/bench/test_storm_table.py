"""The reconnect storm's table: one row per storm run, nothing when no storm ran."""

from bench import storm


def storm_record(**figures):
    return {
        "kind": "phase",
        "label": "devtone (embedded)",
        "n": 1000,
        "shape": "reconnect_storm",
        "storm": {
            "back_s": 2.5,
            "complete_s": 3.25,
            "queries": 500,
            "reads": 1000,
            "distinct_pairs": 500,
            "delivery": {"missing": 0, "duplicate": 0, "out_of_order": 0},
            **figures,
        },
    }


def test_a_storm_shows_queries_beside_distinct_pairs_and_reads():
    table = storm.table([storm_record()])
    assert "| devtone (embedded) | 1,000 | 2.50 | 3.25 | 500 | 500 | 1,000 | 0 / 0 / 0 |" in table


def test_streams_that_never_came_back_say_so_and_a_server_without_the_counter_shows_a_dash():
    table = storm.table([storm_record(complete_s=None, queries=None)])
    assert "| not all | – | 500 |" in table


def test_no_storm_no_table():
    assert storm.table([{"kind": "phase", "shape": "pairs", "label": "x", "n": 1}]) == ""
