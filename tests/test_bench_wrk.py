"""The bench reads wrk's figures whatever their unit (bench/run.py's wrk_figures)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from run import wrk_figures  # noqa: E402

# Real wrk output on a loaded machine: a p99 of one second and more is printed "1.00s ", the unit
# padded to two letters (it broke the bench once, with another stack up).
SLOW = """Running 4s test @ http://127.0.0.1:18680/
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   329.28ms  188.42ms   1.19s    87.74%
    Req/Sec    50.73     29.78   121.00     61.97%
  Latency Distribution
     50%  268.31ms
     75%  373.44ms
     90%  569.90ms
     99%    1.00s\x20
  392 requests in 4.06s, 442.15KB read
Requests/sec:     96.51
Transfer/sec:    108.86KB
"""

FAST = """Running 4s test @ http://192.168.176.5/static/chat/chat.css
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.90ms    2.51ms  40.12ms   92.10%
    Req/Sec     9.10k     1.02k   11.20k    70.00%
  Latency Distribution
     50%  950.00us
     75%    2.10ms
     90%    4.20ms
     99%   12.40ms
  72400 requests in 4.00s, 30.10MB read
  Non-2xx or 3xx responses: 3
Requests/sec:  18100.00
Transfer/sec:      7.52MB
"""


def test_a_p99_in_seconds_is_read() -> None:
    assert wrk_figures(SLOW) == {"rps": 96.51, "p50_ms": 268.31, "p99_ms": 1000.0, "non_2xx": 0}


def test_microseconds_and_errors_are_read() -> None:
    assert wrk_figures(FAST) == pytest.approx({"rps": 18100.0, "p50_ms": 0.95, "p99_ms": 12.4, "non_2xx": 3})


def test_an_output_without_figures_fails_with_the_output() -> None:
    with pytest.raises(ValueError, match="no p50_ms figure"):
        wrk_figures("unable to connect to 192.168.176.5:80 Connection refused\nRequests/sec: 0.00\n")
