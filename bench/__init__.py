"""`nox -s bench`: what users feel, measured in one run (see docs/benchmark.md).

One module per measurement (first_frame, proxy_overhead, peer, memory, concurrency,
up_times), `stats` and `report` for the numbers and the artifacts, `run` orchestrating.
The benchmark never fails on a timing: it records, compares with the targets and reports.
"""
