"""Files in and out: tables (CSV, Parquet, standard streams) with schema checks."""

from anomalib_ae.io.tables import SchemaError, check_columns, read_table, write_table

__all__ = ["SchemaError", "check_columns", "read_table", "write_table"]
