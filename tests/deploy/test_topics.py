"""The topic job (`python -m services.common.topics`, run by compose and the Kubernetes Job) against a real
local broker."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from services.common.infra import TOPICS, LocalInfra

from .conftest import ROOT


@pytest.mark.integration
def test_the_topic_job_creates_every_topic_with_the_partitions_asked_and_can_run_again(tmp_path):
    from kafka import KafkaConsumer

    infra = LocalInfra(workdir=str(tmp_path / "infra"))
    os.makedirs(infra.workdir)
    bootstrap = infra._start_broker()  # a bare broker: no topics yet
    try:
        env = {**os.environ, "KAFKA_BOOTSTRAP": bootstrap}
        for _ in range(2):
            job = subprocess.run(
                [sys.executable, "-m", "services.common.topics", "--partitions", "3"],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert job.returncode == 0, job.stderr
        consumer = KafkaConsumer(bootstrap_servers=bootstrap)
        try:
            assert {t: len(consumer.partitions_for_topic(t) or ()) for t in TOPICS} == {t: 3 for t in TOPICS}
        finally:
            consumer.close()
    finally:
        infra.stop()
