"""Importing a city's data: 311 history (Boston, NYC, any Open311 server, any CSV described by a
column mapping), ward polygons, and synthetic issues at scale.

The pipeline is the same for every source: a reader yields (line number, raw record); `records`
turns a raw record into an `ImportRow` or a `Reject` using a `ColumnMapping` (data, not code);
`service_types` matches or creates departments and service types by name; wards are assigned by
point in one STRtree query per batch; `service_requests` stores a batch (bulk writes: COPY on
PostgreSQL, batched inserts elsewhere; `pipeline`: on a writer thread while a child process reads
and cleans the next rows), updating rows already imported from the same source. The reader, the rejects file, the
progress bar and the bulk writes are shared with the catalogue's asset importer, so they live
below both, in departments/importing/.

Imports write issues in bulk, not through issues.services: a city's history arrives already
decided (statuses, closings), and one service call per row would cost an import of a million
rows hours. They keep the dashboards' counters and the page cache in step themselves, and send
no notifications (docs/import.md).
"""
