"""Software-defined assets, one small module per stage."""
