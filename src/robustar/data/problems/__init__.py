"""A suite of generated spurious-correlation problems, for measuring repairs on more than one
demo: `generate(kind, out, seed=...)` writes one; `PROBLEMS` lists the kinds. A generated
segmentation problem (biased training set, shifted pool) is `generate_segmentation(out)`."""

from robustar.data.problems import kinds as _kinds  # noqa: F401  (registers the kinds)
from robustar.data.problems.rare import RareProblem, generate_rare, is_rare
from robustar.data.problems.segmentation import SegProblem, generate_segmentation
from robustar.data.problems.suite import PROBLEMS, SPLITS, Kind, Problem, generate

__all__ = [
    "PROBLEMS",
    "SPLITS",
    "Kind",
    "Problem",
    "RareProblem",
    "SegProblem",
    "generate",
    "generate_rare",
    "generate_segmentation",
    "is_rare",
]
