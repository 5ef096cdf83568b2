"""Extract contracts, identifier checks and the synthetic data generator."""
