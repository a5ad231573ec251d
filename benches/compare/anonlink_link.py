"""Link two CLK JSON files with anonlink and time it.

    python anonlink_link.py A.json B.json THRESHOLD

Reads both files (timed apart), then runs `find_candidate_pairs` with the
accelerated Dice kernel and `greedy_solve`, as the anonlink documentation
does. Prints `load_s candidates_s solve_s comparisons candidate_pairs matched_pairs`.
"""

import json
import sys
import time

from anonlink import candidate_generation, similarities, solving
from clkhash.serialization import deserialize_bitarray


def load(path):
    with open(path) as f:
        return [deserialize_bitarray(c) for c in json.load(f)["clks"]]


def main(a_path, b_path, threshold):
    started = time.perf_counter()
    a, b = load(a_path), load(b_path)
    loaded = time.perf_counter()
    candidates = candidate_generation.find_candidate_pairs(
        [a, b], similarities.dice_coefficient_accelerated, float(threshold)
    )
    found = time.perf_counter()
    groups = solving.greedy_solve(candidates)
    solved = time.perf_counter()
    matched = sum(1 for g in groups if len(g) == 2)
    print("%.4f %.4f %.4f %d %d %d" % (
        loaded - started, found - loaded, solved - found,
        len(a) * len(b), len(candidates[0]), matched,
    ))


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
