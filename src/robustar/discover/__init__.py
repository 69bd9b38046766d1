"""Failure discovery beyond the test set: model disagreement (`mad`), a generative model's error
regions (`defuse`) and attribute edits (`edits`). Each sits above training, the guard and the
repair search, and below the job handlers; the three do not import one another."""
