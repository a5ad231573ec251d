"""Encode a CSV with clkhash and time it.

    python clkhash_encode.py SCHEMA.json SECRET_FILE DATA.csv OUT.json WORKERS

Prints `seconds records`. WORKERS is clkhash's max_workers (1: one core).
The secret is the file's bytes without one trailing newline, as
`zicht encode --secret-file` reads it.
"""

import json
import sys
import time

from clkhash import clk, schema
from clkhash.serialization import serialize_bitarray


def main(schema_path, secret_path, data_path, out_path, workers):
    with open(schema_path) as f:
        linkage_schema = schema.from_json_file(f)
    with open(secret_path, "rb") as f:
        secret = f.read()
    if secret.endswith(b"\n"):
        secret = secret[:-1]
    started = time.perf_counter()
    with open(data_path, newline="") as f:
        clks = clk.generate_clk_from_csv(
            f, secret.decode("utf-8"), linkage_schema, progress_bar=False, max_workers=int(workers)
        )
    seconds = time.perf_counter() - started
    with open(out_path, "w") as f:
        json.dump({"clks": [serialize_bitarray(c) for c in clks]}, f)
    print("%.4f %d" % (seconds, len(clks)))


if __name__ == "__main__":
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    main(*sys.argv[1:])
