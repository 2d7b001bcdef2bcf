#!/usr/bin/env python3
"""Academy's own client as the load: requests to an Academy agent through an HTTP exchange.

  academy-load.py URL AGENT_UUID --requests N --window W --sequential K --rounds R

Each round makes N requests of `echo` with at most W in flight, then K one
after another; an untimed first round warms up. Prints one line of JSON:
{"throughput": [{"count": N, "ns": ...}, ...], "latency": [[ns, ...], ...]}.
Requests use Academy's `json` serializer.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid

from academy.exchange.cloud.client import HttpExchangeFactory
from academy.handle import Handle
from academy.identifier import AgentId
from academy.serialize import SerializationStrategy


async def run(ns: argparse.Namespace) -> dict:
    client = await HttpExchangeFactory(ns.url.rstrip("/")).create_user_client(name="bench-load")
    try:
        handle: Handle = Handle(AgentId(uid=uuid.UUID(ns.agent)), exchange=client, request_serializer=SerializationStrategy("json"))
        window = asyncio.Semaphore(ns.window)

        async def one(i: int) -> None:
            async with window:
                await handle.action("echo", i)

        throughput = []
        latency = []
        for round_ in range(ns.rounds + 1):
            start = time.perf_counter_ns()
            await asyncio.gather(*(one(i) for i in range(ns.requests)))
            elapsed = time.perf_counter_ns() - start
            samples = []
            for i in range(ns.sequential):
                start = time.perf_counter_ns()
                await handle.action("echo", i)
                samples.append(time.perf_counter_ns() - start)
            if round_ > 0:
                throughput.append({"count": ns.requests, "ns": elapsed})
                latency.append(samples)
        return {"throughput": throughput, "latency": latency}
    finally:
        await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("url")
    parser.add_argument("agent")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--window", type=int, default=256)
    parser.add_argument("--sequential", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    print(json.dumps(asyncio.run(run(parser.parse_args()))), flush=True)


if __name__ == "__main__":
    main()
