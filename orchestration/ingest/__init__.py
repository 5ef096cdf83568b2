"""Ingestion: parse submitted files against their contracts, validate, pseudonymise, load atomically."""
