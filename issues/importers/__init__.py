"""Importing a city's data: 311 history (Boston, NYC, any Open311 server, any CSV described by a
column mapping), ward polygons, and synthetic issues at scale.

The pipeline is the same for every source: a reader yields (line number, raw record); `records`
turns a raw record into an `ImportRow` or a `Reject` using a `ColumnMapping` (data, not code);
`catalogue` matches or creates departments and service types by name; wards are assigned by point
in one STRtree query per batch; `writer` stores a batch through COPY on PostgreSQL or batched
bulk inserts elsewhere, updating rows already imported from the same source.
"""
