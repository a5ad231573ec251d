"""Write N random 1024-bit filters (each bit set with probability 1/2) as
CLK JSON: `python random_clks.py OUT.json N SEED`."""

import base64
import json
import random
import sys


def main(out_path, n, seed):
    rng = random.Random(int(seed))
    clks = [base64.b64encode(rng.getrandbits(1024).to_bytes(128, "big")).decode() for _ in range(int(n))]
    with open(out_path, "w") as f:
        json.dump({"clks": clks}, f)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
