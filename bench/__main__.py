"""Run every benchmark and print its table: `make bench`."""

from bench import gallery_latency, predict_throughput, scan_throughput

for benchmark in (scan_throughput, predict_throughput, gallery_latency):
    print(benchmark.run(), end="\n\n", flush=True)
