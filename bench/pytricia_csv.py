"""The baseline of bench/lookup_file.py: a pytricia script that builds its tree from the
statistics files and prints the CSV of ``rirport lookup --file F --format csv``.

    python bench/pytricia_csv.py QUERIES FILE...
"""

import sys
from ipaddress import IPv4Address, summarize_address_range
from pathlib import Path

import pytricia

trie = pytricia.PyTricia(32)
for path in sys.argv[2:]:
    for line in Path(path).read_text().splitlines():
        f = line.split("|")
        if len(f) < 7 or f[2] != "ipv4" or f[1] == "*" or line.startswith("#"):
            continue
        first = IPv4Address(f[3])
        day = f[5] if f[5] not in ("", "00000000") else ""
        date = f"{day[:4]}-{day[4:6]}-{day[6:]}" if day else ""
        row = ",".join([f[0], f[1], "ipv4", f[3], f[4], date, f[6], f[7] if len(f) > 7 else ""])
        for net in summarize_address_range(first, first + int(f[4]) - 1):
            trie[str(net)] = (row, int(f[4]) == 1)
out = ["query,registry,cc,type,start,value,date,status,opaque_id,relation"]
for query in Path(sys.argv[1]).read_text().split():
    hit = trie.get(query)
    if hit is not None:
        out.append(f"{query},{hit[0]},{'exact' if hit[1] else 'covering'}")
sys.stdout.write("\n".join(out) + "\n")
