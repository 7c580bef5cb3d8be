"""Drives the builder's XML-RPC API with Python 3's xmlrpc.client, as
Seattle's Clearinghouse does, for the Go tests (rpc_test.go).

Reads one JSON object on stdin:
  {"url": "http://127.0.0.1:PORT/xmlrpc/", "vars": {"K1": "e n", ...},
   "steps": [{"name": "...", "method": "api_version", "args": "python expression of the argument tuple"},
             {"name": "...", "method": "...", "args": "...", "allow_none": true},
             {"name": "...", "raw": "request body text", "repeat": N},
             {"name": "...", "download": "python expression of a URL", "to": "path"}]}
Every expression sees vars by name and `results`, the results so far.
Writes one JSON object: name -> {"result": ...} | {"fault": {"code": N, "string": "..."}}
| {"error": "..."} (anything else: a protocol error, a broken connection).
"""
import json
import sys
import urllib.request
import xmlrpc.client


def main():
    req = json.load(sys.stdin)
    env = dict(req.get("vars") or {})
    results = {}
    env["results"] = results
    out = {}
    for step in req["steps"]:
        name = step["name"]
        try:
            if "download" in step:
                url = eval(step["download"], env)
                with urllib.request.urlopen(url, timeout=120) as r, open(step["to"], "wb") as f:
                    f.write(r.read())
                    out[name] = {"result": {"status": r.status, "type": r.headers.get("Content-Type")}}
                continue
            if "raw" in step:
                body = step["raw"] * step.get("repeat", 1)
                if isinstance(body, str):
                    body = body.encode("utf-8")
                r = urllib.request.Request(req["url"], data=body, headers={"Content-Type": "text/xml"})
                with urllib.request.urlopen(r, timeout=120) as resp:
                    params, _ = xmlrpc.client.loads(resp.read())
                out[name] = {"result": params[0]}
                continue
            proxy = xmlrpc.client.ServerProxy(req["url"], allow_none=step.get("allow_none", False))
            args = eval(step.get("args", "()"), env)
            if not isinstance(args, tuple):
                args = (args,)
            res = getattr(proxy, step["method"])(*args)
            results[name] = res
            out[name] = {"result": res}
        except xmlrpc.client.Fault as f:
            out[name] = {"fault": {"code": f.faultCode, "string": f.faultString}}
        except Exception as e:  # what a client would see instead of a fault
            out[name] = {"error": "%s: %s" % (type(e).__name__, e)}
    json.dump(out, sys.stdout)


main()
