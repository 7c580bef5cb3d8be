# The Python original's arithmetic (benchmark_resources.py and
# create_installer_state.py of Seattle), transcribed operation for operation,
# run under Python 3 so that TestArithmeticMatchesPython can compare the Go
# pipeline's resource lines with it. Input: a JSON list of cases on stdin.
# Output: for each case, its resource lines (then a line "--"), or
# "insufficient NAMES".
import json
import sys

ALL = ["cpu", "memory", "diskused", "events", "filesopened", "insockets", "outsockets",
       "random", "filewrite", "fileread", "netrecv", "netsend", "lograte", "loopsend", "looprecv"]

for case in json.load(sys.stdin):
    maxres, percent, offcut, percents = case["max"], case["percent"], case["offcut"], case["percents"]
    # get_donated_from_maxresources
    resource_percent = percent / 100.0
    donated = {}
    for r in ALL:
        if r == "cpu":
            donated[r] = maxres[r] * resource_percent
        elif r == "events":
            donated[r] = 500
        else:
            donated[r] = int(maxres[r] * resource_percent)
    # nmresourcemath.subtract, once per vessel
    for _ in percents:
        donated = {r: donated[r] - offcut[r] for r in ALL}
    negative = [r for r in ALL if donated[r] < 0.0]
    if negative:
        print("insufficient " + " ".join(negative))
        continue
    # get_tenpercent_of_donated
    tenth = {r: donated[r] * .1 if r == "cpu" else int(donated[r] * .1) for r in ALL}
    # create_installer_state.main
    used = 0
    for pc in percents:
        size = pc // 10
        res = dict(tenth)
        while size > 1:
            res = {r: res[r] + tenth[r] for r in ALL}
            size -= 1
        for r in ALL:
            print("resource %s %s" % (r, repr(res[r]) if isinstance(res[r], float) else str(res[r])))
        ports = range(63100 + 10 * used, 63100 + 10 * (used + pc // 10))
        for kind in ("messport", "connport"):
            for p in ports:
                print("resource %s %d" % (kind, p))
        used += pc // 10
        print("--")
