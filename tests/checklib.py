"""What the checkers share: reading JSON Lines and fdinfo dumps."""
import json


def load_jsonl(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise SystemExit(f"{path}:{n}: not JSON: {e}")
    return out


def load_fdinfo(path):
    """epfd -> sorted watched fds, from tests/fdinfo.sh's 'EPFD: TFD ...' lines."""
    res = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if ":" not in line:
                continue
            epfd, rest = line.split(":", 1)
            res[int(epfd)] = sorted(int(x) for x in rest.split())
    return res
