"""Statistics computed in Python (scipy) from the dbt marts and written back to the warehouse."""
