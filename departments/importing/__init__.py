"""The parts every importer shares: reading a source file line by line (`readers`), the rejects
file (`rejects`), the progress bar (`progress`), the summary an import ends with (`summary`), the batch loop the catalogue importers share (`batches`) and bulk writes (`bulk`: COPY on PostgreSQL,
batched inserts elsewhere), and the asset importer built on them (`assets`).

They live here, in the catalogue, because both the catalogue's importer (asset layers) and the
issues' importers (311 history, wards, synthetic issues in issues/importers/) use them, and
departments sits below issues (docs/architecture.md).
"""
