"""One-shot job: create the pipeline's topics with their partition counts and replication factor.

Compose and Kubernetes run it before the services (`python -m services.common.topics`); topics that
exist are left as they are. Kafka settings (bootstrap, TLS, SASL) come from the environment
as for every service.
"""

from __future__ import annotations

import argparse

from services.common.config import kafka_bootstrap
from services.common.infra import PARTITIONS, TOPICS, create_topics


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m services.common.topics", description=__doc__.splitlines()[0])
    p.add_argument(
        "--partitions",
        type=int,
        default=PARTITIONS,
        help="partitions per topic: the most workers of one service that get work",
    )
    p.add_argument("--replication-factor", type=int, default=1, help="3 on a production cluster")
    args = p.parse_args(argv)
    bootstrap = kafka_bootstrap()
    create_topics(bootstrap, args.partitions, replication=args.replication_factor)
    print(
        f"topics on {bootstrap}: {', '.join(TOPICS)} "
        f"({args.partitions} partitions, replication factor {args.replication_factor} where created)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
