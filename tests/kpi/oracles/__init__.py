"""Test oracles: one series (or one funnel) at a time, written as plainly as the method reads.

`kpi.spc`, `kpi.funnel` and `kpi.trend` compute each statistic once, over every group of a long
frame at a time (what the mart needs); their single-series functions (`xmr`, `classify_funnel`,
`recent_trend`) are thin wrappers over those. The loops kept here are the independent
calculation the vectorised code is checked against, row for row (tests/kpi/test_batch.py,
tests/etl/test_mart_statistics.py), and are not used by the product. See
docs/methods/one-implementation.md.
"""
