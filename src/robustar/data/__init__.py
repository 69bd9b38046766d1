"""Data: image decoding, split scanning and indexing, torch datasets, demo data, the
problem suite."""
