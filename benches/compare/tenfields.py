"""Ten-field synthetic registry data and the matching schemas, for the
side-by-side comparison of zicht with clkhash and anonlink.

    python tenfields.py schemas OUT_DIR             # ten.json, ten.toml, ten-profile.toml
    python tenfields.py csv OUT.csv N SEED           # N records of distinct people
    python tenfields.py pair A.csv B.csv N SEED      # two sources of N records;
                                                     # half of B are noisy copies of A's people

Everything is made up and deterministic for a seed. The CSV header is the
clkhash feature identifiers in order, so clkhash and `zicht encode` (both
modes) read the same file.
"""

import csv
import json
import random
import sys

GIVEN = """anna maria johanna elisabeth sophie emma julia sara lisa eva fatima
aisha zeynep elif ioana elena maria daria olena natalia anastasia grace
blessing chiamaka joy mercy precious jan pieter johannes cornelis hendrik
daan sem lucas mohamed ahmed mustafa yusuf mehmet ali ion andrei mihai
vasile taras oleksandr dmitri emeka chinedu samuel david thanh minh linh
huong wei jing li mei""".split()
FAMILY = [name.strip() for name in """de jong, jansen, de vries, van den berg,
van dijk, bakker, janssen, visser, smit, meijer, de boer, mulder, de groot,
bos, vos, peters, hendriks, van leeuwen, dekker, brouwer, de wit, dijkstra,
smits, de graaf, van der meer, yilmaz, kaya, demir, sahin, celik, popescu,
ionescu, popa, pop, radu, dumitru, stan, kozych, shevchenko, kovalenko,
bondarenko, nguyen, tran, le, pham, okafor, okonkwo, eze, adeyemi, iberhobo,
mensah, asante, wang, zhang, chen""".split(",")]
PLACES = """amsterdam rotterdam den haag utrecht eindhoven groningen tilburg
almere breda nijmegen arnhem haarlem enschede zwolle leiden maastricht
bucuresti cluj-napoca iasi constanta kyiv lviv kharkiv odesa lagos benin
city abuja hanoi saigon istanbul ankara izmir""".split()
NATIONALITIES = "NL RO UA NG VN TR BG PL CN MA SR GH ER SY IN".split()
STREETS = """kerkstraat schoolstraat molenstraat dorpsstraat stationsweg
nieuwstraat markt julianastraat wilhelminastraat beatrixstraat hoofdstraat
kastanjelaan eikenlaan lindenlaan parklaan prinsengracht herengracht
keizersgracht singel damrak""".split()
EXPLOITATION = ["sexual", "labour", "criminal", "other"]

HEADER = [
    "id", "given_name", "family_name", "date_of_birth", "sex",
    "place_of_birth", "nationality", "postcode", "address",
    "document_number", "exploitation",
]


def person(rng):
    """A fresh person: a dict of the ten fields."""
    given = rng.choice(GIVEN)
    if rng.random() < 0.3:
        given += " " + rng.choice(GIVEN)
    family = rng.choice(FAMILY)
    year = rng.randint(1950, 2010)
    return {
        "given_name": given,
        "family_name": family,
        "date_of_birth": "%04d-%02d-%02d" % (year, rng.randint(1, 12), rng.randint(1, 28)),
        "sex": rng.choice("FM"),
        "place_of_birth": rng.choice(PLACES),
        "nationality": rng.choice(NATIONALITIES),
        "postcode": "%04d%s%s" % (rng.randint(1000, 9999), rng.choice("ABCDEFGHJKLMNPRSTVWXZ"), rng.choice("ABCDEFGHJKLMNPRSTVWXZ")),
        "address": "%s %d" % (rng.choice(STREETS), rng.randint(1, 250)),
        "document_number": "N%s%07d" % (rng.choice("XYZ"), rng.randint(0, 9_999_999)),
        "exploitation": rng.choice(EXPLOITATION),
    }


def typo(rng, text):
    """One recording error: drop, double, or swap a character."""
    if len(text) < 3:
        return text
    i = rng.randrange(1, len(text) - 1)
    kind = rng.randrange(3)
    if kind == 0:
        return text[:i] + text[i + 1:]
    if kind == 1:
        return text[:i] + text[i] + text[i:]
    return text[:i - 1] + text[i] + text[i - 1] + text[i + 1:]


def noisy(rng, record):
    """A second registration of the same person with a few errors."""
    r = dict(record)
    for field in ("given_name", "family_name", "address"):
        if rng.random() < 0.3:
            r[field] = typo(rng, r[field])
    if rng.random() < 0.1:
        y, m, d = r["date_of_birth"].split("-")
        r["date_of_birth"] = "%s-%s-%s" % (y, d if int(d) <= 12 else m, m if int(d) <= 12 else d)
    if rng.random() < 0.2:
        r["postcode"] = ""
    if rng.random() < 0.2:
        r["address"] = ""
    if rng.random() < 0.1:
        r["place_of_birth"] = ""
    return r


def write_csv(path, records):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(HEADER)
        for i, r in enumerate(records):
            w.writerow([i] + [r[h] for h in HEADER[1:]])


def clkhash_schema():
    """The ten fields as a clkhash v3 schema (keyed BLAKE2b throughout)."""
    def feature(identifier, comparison, bits, fmt=None):
        return {
            "identifier": identifier,
            "format": fmt or {"type": "string", "encoding": "utf-8"},
            "hashing": {
                "comparison": comparison,
                "strategy": {"bitsPerToken": bits},
                "hash": {"type": "blakeHash"},
                "missingValue": {"sentinel": ""},
            },
        }
    bigram = {"type": "ngram", "n": 2}
    positional = {"type": "ngram", "n": 1, "positional": True}
    exact = {"type": "exact"}
    return {
        "version": 3,
        "clkConfig": {
            "l": 1024,
            "kdf": {
                "type": "HKDF", "hash": "SHA256",
                "salt": "SCbL2zHNnmsckfzchsNkZY9XoHk96P/G5nUBrM7ybymlEFsMV6PAeDZCNp3rfNUPCtLDMOGQHG4pCQpfhiHCyA==",
                "info": "c2NoZW1hX2V4YW1wbGU=",
                "keySize": 64,
            },
        },
        "features": [
            {"identifier": "id", "ignored": True},
            feature("given_name", bigram, 20),
            feature("family_name", bigram, 20),
            feature("date_of_birth", positional, 10),
            feature("sex", exact, 4),
            feature("place_of_birth", bigram, 8),
            feature("nationality", exact, 4),
            feature("postcode", positional, 10),
            feature("address", bigram, 10),
            feature("document_number", positional, 10),
            feature("exploitation", exact, 4),
        ],
    }


ZICHT_SCHEMA = """# The ten-field benchmark schema (zicht native encoding).
version = 1
name = "bench-ten-fields"
filter_bits = 1024

[[field]]
name = "given_name"
kind = "given_name"

[[field]]
name = "family_name"
kind = "family_name"

[[field]]
name = "date_of_birth"
kind = "date_of_birth"

[[field]]
name = "sex"
kind = "sex"

[[field]]
name = "place_of_birth"
kind = "place"

[[field]]
name = "nationality"
kind = "category"

[[field]]
name = "postcode"
kind = "identifier"

[[field]]
name = "address"
kind = "text"

[[field]]
name = "document_number"
kind = "identifier"

[[field]]
name = "exploitation"
kind = "category"
"""

ZICHT_PROFILE = """# How the ten-field benchmark CSV maps onto the schema.
source = "bench"
delimiter = ","
header = true
encoding = "utf-8"
missing = [""]
date_formats = ["%Y-%m-%d"]
sex_codes = { F = "f", M = "m" }

[columns]
given_name = "given_name"
family_name = "family_name"
date_of_birth = "date_of_birth"
sex = "sex"
place_of_birth = "place_of_birth"
nationality = "nationality"
postcode = "postcode"
address = "address"
document_number = "document_number"
exploitation = "exploitation"
"""


def main(argv):
    if len(argv) >= 2 and argv[0] == "schemas":
        out = argv[1]
        with open(out + "/ten.json", "w") as f:
            json.dump(clkhash_schema(), f, indent=1)
        with open(out + "/ten.toml", "w") as f:
            f.write(ZICHT_SCHEMA)
        with open(out + "/ten-profile.toml", "w") as f:
            f.write(ZICHT_PROFILE)
    elif len(argv) == 4 and argv[0] == "csv":
        rng = random.Random(int(argv[3]))
        write_csv(argv[1], [person(rng) for _ in range(int(argv[2]))])
    elif len(argv) == 5 and argv[0] == "pair":
        rng = random.Random(int(argv[4]))
        n = int(argv[3])
        a = [person(rng) for _ in range(n)]
        b = [noisy(rng, a[i]) for i in range(n // 2)] + [person(rng) for _ in range(n - n // 2)]
        rng.shuffle(b)
        write_csv(argv[1], a)
        write_csv(argv[2], b)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
