"""The latency each path adds, one request at a time: one keep-alive connection per path, and the
requests alternate between the paths (their order rotating), so that a slow spell of the machine
hits every path alike and the percentiles of the paths can be compared.

python bench/latency.py http://172.18.0.5/ http://172.18.0.4:8000/ --requests 2000
"""

from __future__ import annotations

import argparse
import http.client
import json
import time
from urllib.parse import urlsplit

from fanout import percentile


def paired_latency(urls: dict[str, str], requests: int, warmup: int = 100) -> dict[str, dict[str, float]]:
    """For each path (name: URL), the p50 and p99 of `requests` GETs, in milliseconds, and the
    count of answers that were not 200. The first `warmup` requests of each path are not counted."""
    connections = {}
    for name, url in urls.items():
        parts = urlsplit(url)
        connections[name] = (
            http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=10),
            parts.path or "/",
        )
    samples: dict[str, list[float]] = {name: [] for name in urls}
    errors = dict.fromkeys(urls, 0)
    names = list(urls)
    for index in range(warmup + requests):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            connection, path = connections[name]
            start = time.perf_counter()
            connection.request("GET", path, headers={"Host": "localhost"})
            response = connection.getresponse()
            response.read()
            elapsed = (time.perf_counter() - start) * 1000
            if index >= warmup:
                samples[name].append(elapsed)
                errors[name] += response.status != 200
    for connection, _reader in connections.values():
        connection.close()
    return {
        name: {
            "requests": len(values),
            "p50_ms": round(percentile(values, 50), 2),
            "p99_ms": round(percentile(values, 99), 2),
            "non_200": errors[name],
        }
        for name, values in samples.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("urls", nargs="+")
    parser.add_argument("--requests", type=int, default=2000)
    arguments = parser.parse_args()
    print(json.dumps(paired_latency({url: url for url in arguments.urls}, arguments.requests), indent=2))


if __name__ == "__main__":
    main()
