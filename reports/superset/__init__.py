"""Superset publication: a requests client for Superset's REST API, the read-only serving copy of the
disclosure-controlled marts it reads, and the "Social prescribing — PCN overview" dashboard defined in code."""
