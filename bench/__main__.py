"""Run every benchmark and print its table: `make bench`."""

from bench import (
    annotation_latency,
    attribution_bench,
    attribution_lds,
    gallery_latency,
    paired_training,
    predict_throughput,
    scan_throughput,
)

BENCHMARKS = (
    scan_throughput,
    predict_throughput,
    gallery_latency,
    annotation_latency,
    attribution_bench,
    attribution_lds,
    paired_training,
)

for benchmark in BENCHMARKS:
    print(benchmark.run(), end="\n\n", flush=True)
