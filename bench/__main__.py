"""Run the benchmarks and print their tables: `make bench` (python -m bench).

`--smoke` (`make bench-smoke`, in CI) runs each once on a tiny setting, its module's `SMOKE`
arguments to `run`: the figures mean nothing, but a benchmark that no longer runs fails there.
"""

import argparse
import time

from bench import (
    annotation_latency,
    attribute_edits,
    attribution_bench,
    attribution_lds,
    database_backends,
    defuse,
    gallery_latency,
    labelmap_io,
    mad,
    paired_training,
    predict_throughput,
    repair_skew,
    repair_suite,
    repair_sweep,
    scan_throughput,
    seg_selection,
)

BENCHMARKS = {
    module.__name__.rpartition(".")[2]: module
    for module in (
        scan_throughput,
        predict_throughput,
        gallery_latency,
        database_backends,
        annotation_latency,
        labelmap_io,
        attribution_bench,
        attribution_lds,
        paired_training,
        repair_suite,
        repair_skew,
        attribute_edits,
        mad,
        seg_selection,
        defuse,
    )
}

# The defaults sweep runs alone (`make sweep`, about an hour); smoke runs include it.
SMOKE_ONLY = {"repair_sweep": repair_sweep}

parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
parser.add_argument("--smoke", action="store_true", help="each once, on a tiny setting")
parser.add_argument("names", nargs="*", help=f"default: all of {', '.join(BENCHMARKS)}")
args = parser.parse_args()
known = {**BENCHMARKS, **SMOKE_ONLY}
if unknown := set(args.names) - set(known):
    parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
for name in args.names or (known if args.smoke else BENCHMARKS):
    benchmark = known[name]
    started = time.perf_counter()
    print(benchmark.run(**(benchmark.SMOKE if args.smoke else {})), flush=True)
    print(f"({name}: {time.perf_counter() - started:.0f} s)", end="\n\n", flush=True)
