"""Posts oversized vesselinfo bodies with Python's urllib, which sends the
whole body before it reads the answer, and prints one line per size:
SIZE_BYTES GOT_413 OTHER_OUTCOMES.

Usage: post_oversized.py URL TRIES SIZE_BYTES...
"""
import sys
import urllib.error
import urllib.request

url, tries, sizes = sys.argv[1], int(sys.argv[2]), [int(s) for s in sys.argv[3:]]
for size in sizes:
    body = b"\n" * size
    got, other = 0, []
    for _ in range(tries):
        req = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "text/plain"})
        try:
            with urllib.request.urlopen(req, timeout=60) as res:
                other.append("status-%d" % res.status)
        except urllib.error.HTTPError as e:
            text = e.read().decode("utf-8", "replace")
            if e.code == 413 and "limit" in text:
                got += 1
            else:
                other.append("status-%d" % e.code)
        except Exception as e:  # connection reset, broken pipe, ...
            other.append(type(e).__name__)
    print(size, got, ",".join(sorted(set(other))) or "-", flush=True)
