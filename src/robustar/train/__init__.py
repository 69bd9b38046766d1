"""Training: options and the plain supervised loop (paired training builds on it)."""
