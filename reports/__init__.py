"""Report builders and the Superset client."""
