"""Predictions: batched inference stored per model version, and metrics computed from them."""
