"""devtone's benchmark: a load client of its own, the reference peer, profiles and reports.

`make bench` (quick) or `BENCH=full make bench`; see docs/performance.md.
"""
