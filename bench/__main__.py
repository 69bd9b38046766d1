"""Run every benchmark and print its table: `make bench`."""

from bench import predict_throughput, scan_throughput

for benchmark in (scan_throughput, predict_throughput):
    print(benchmark.run(), end="\n\n", flush=True)
