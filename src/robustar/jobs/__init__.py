"""Jobs: long operations as database rows, run one at a time by a worker process."""
