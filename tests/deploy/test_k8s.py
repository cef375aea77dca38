"""Kubernetes manifests in deploy/k8s: valid against the Kubernetes schemas offline, complete, and safe by default."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .conftest import K8S, ROOT, SERVICES, load_make_secrets

VALIDATE = str(Path(sys.executable).parent / "kubernetes-validate")
KUSTOMIZATION = yaml.safe_load((K8S / "kustomization.yaml").read_text())
MANIFESTS = sorted(p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


def validate(*paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [VALIDATE, "--strict", "--quiet", *map(str, paths)], capture_output=True, text=True, timeout=120
    )


def documents() -> list[dict]:
    return [doc for name in KUSTOMIZATION["resources"] for doc in yaml.safe_load_all((K8S / name).read_text()) if doc]


def deployments() -> dict[str, dict]:
    return {
        d["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"]: d
        for d in documents()
        if d["kind"] == "Deployment"
    }


def test_every_manifest_validates_strictly_against_the_kubernetes_schemas():
    out = validate(*(K8S / name for name in MANIFESTS))
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_strict_validation_rejects_a_misspelled_field(tmp_path):
    bad = tmp_path / "job.yaml"
    bad.write_text((K8S / "job-topics.yaml").read_text().replace("readOnlyRootFilesystem", "readOnlyRootFilesystm"))
    out = validate(bad)
    assert out.returncode != 0 and "readOnlyRootFilesystm" in out.stdout + out.stderr


def test_the_kustomization_lists_every_manifest_and_only_files_that_exist():
    listed = KUSTOMIZATION["resources"]
    assert sorted(listed) == MANIFESTS
    assert all((K8S / name).is_file() for name in listed)


def test_the_generated_secrets_read_files_make_k8s_secrets_writes_into_a_git_ignored_folder():
    written = set(load_make_secrets().FILES)
    sources = [src.split("=", 1)[1] for gen in KUSTOMIZATION["secretGenerator"] for src in gen["files"]]
    assert {Path(s).parent.as_posix() for s in sources} == {"secrets"}
    assert {Path(s).name for s in sources} == written
    probe = subprocess.run(["git", "check-ignore", "-q", "deploy/k8s/secrets/redis_password"], cwd=ROOT)
    assert probe.returncode == 0, "deploy/k8s/secrets/ must be git-ignored"


def test_one_deployment_per_service_running_that_service_and_no_statefulset():
    found = deployments()
    assert sorted(found) == SERVICES
    for name, d in found.items():
        (container,) = d["spec"]["template"]["spec"]["containers"]
        assert container["command"] == ["python", "-m", f"services.{name}.app", "worker", "-l", "info"]
    kinds = {d["kind"] for d in documents()}
    assert "StatefulSet" not in kinds and "PersistentVolumeClaim" not in kinds


def test_every_deployment_has_liveness_on_healthz_and_readiness_on_ready_at_its_web_port():
    for name, d in deployments().items():
        (container,) = d["spec"]["template"]["spec"]["containers"]
        web = {p["name"]: p["containerPort"] for p in container["ports"]}["web"]
        assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "web"}, name
        assert container["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "web"}, name
        config = next(d for d in documents() if d["kind"] == "ConfigMap")
        assert int(config["data"]["ISF_WEB_PORT"]) == web
        assert config["data"]["ISF_WEB_BIND"] == "0.0.0.0"


def test_every_pod_has_resources_runs_as_non_root_on_a_read_only_root_and_reads_the_configmap():
    pods = [d["spec"]["template"] for d in documents() if d["kind"] in ("Deployment", "Job")]
    assert len(pods) == len(SERVICES) + 1
    for pod in pods:
        spec = pod["spec"]
        assert spec["securityContext"]["runAsNonRoot"] is True and spec["securityContext"]["runAsUser"] != 0
        assert spec["automountServiceAccountToken"] is False
        for c in spec["containers"]:
            assert {"cpu", "memory"} <= set(c["resources"]["requests"]) and {"cpu", "memory"} <= set(
                c["resources"]["limits"]
            )
            assert c["securityContext"]["readOnlyRootFilesystem"] is True
            assert c["securityContext"]["allowPrivilegeEscalation"] is False
            assert {"name": "isf-config"} in [e["configMapRef"] for e in c["envFrom"]]
            assert "/tmp" in [m["mountPath"] for m in c["volumeMounts"]]  # faust's data directory


def test_the_pseudonym_key_reaches_only_ingest_the_tokens_only_the_monitor_and_values_only_as_files():
    expected = {"isf-pseudonym-key": {"ingest"}, "isf-monitor-tokens": {"monitor"}, "isf-redis": set(SERVICES)}
    holders: dict[str, set[str]] = {}
    for name, d in deployments().items():
        for volume in d["spec"]["template"]["spec"].get("volumes", []):
            if "secret" in volume:
                holders.setdefault(volume["secret"]["secretName"], set()).add(name)
        (container,) = d["spec"]["template"]["spec"]["containers"]
        assert all("value" in e and "valueFrom" not in e for e in container.get("env", [])), name
    assert holders == expected
    assert {g["name"] for g in KUSTOMIZATION["secretGenerator"]} == set(expected)


def test_the_topic_job_creates_topics_with_replication_factor_3_and_the_monitor_has_a_service():
    job = next(d for d in documents() if d["kind"] == "Job")
    command = job["spec"]["template"]["spec"]["containers"][0]["command"]
    assert command[:3] == ["python", "-m", "services.common.topics"]
    assert command[command.index("--replication-factor") + 1] == "3"
    service = next(d for d in documents() if d["kind"] == "Service")
    assert service["spec"]["selector"]["app.kubernetes.io/component"] == "monitor"
    assert service["spec"]["type"] == "ClusterIP"


def test_no_service_or_ingress_routes_to_an_ops_port_and_the_monitor_serves_its_api_apart_from_them():
    """/metrics, /healthz and /ready are on every worker's `web` port (probes, Prometheus); the monitor's API and
    dashboard on `http` (ISF_MONITOR_PORT): the only port a Service (or an Ingress through one) reaches."""
    config = next(d for d in documents() if d["kind"] == "ConfigMap")["data"]
    (monitor,) = deployments()["monitor"]["spec"]["template"]["spec"]["containers"]
    ports = {p["name"]: p["containerPort"] for p in monitor["ports"]}
    assert ports == {"web": int(config["ISF_WEB_PORT"]), "http": int(config["ISF_MONITOR_PORT"])}
    assert ports["web"] != ports["http"]
    services = [d for d in documents() if d["kind"] == "Service"]
    assert services and all(p["targetPort"] in ("http", ports["http"]) for s in services for p in s["spec"]["ports"])
    for ingress in (d for d in documents() if d["kind"] == "Ingress"):
        for rule in ingress["spec"].get("rules", []):
            for path in rule["http"]["paths"]:
                assert path["backend"]["service"]["name"] in {s["metadata"]["name"] for s in services}
    for d in deployments().values():
        template = d["spec"]["template"]
        assert template["metadata"]["annotations"]["prometheus.io/port"] == config["ISF_WEB_PORT"]
    config = next(d for d in documents() if d["kind"] == "ConfigMap")
    assert config["data"]["REDIS_CLUSTER"] == "1"


def test_the_kustomization_renders_with_generated_secrets_into_valid_manifests(tmp_path):
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl not installed: the rendered kustomization is not checked (each manifest still is)")
    copy = tmp_path / "k8s"
    shutil.copytree(K8S, copy, ignore=shutil.ignore_patterns("secrets"))
    load_make_secrets().write_secrets(copy / "secrets")
    out = subprocess.run([kubectl, "kustomize", str(copy)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    rendered = tmp_path / "rendered.yaml"
    rendered.write_text(out.stdout)
    check = validate(rendered)
    assert check.returncode == 0, check.stdout + check.stderr
    docs = [d for d in yaml.safe_load_all(out.stdout) if d]
    secrets = {d["metadata"]["name"] for d in docs if d["kind"] == "Secret"}
    for d in docs:
        for volume in d.get("spec", {}).get("template", {}).get("spec", {}).get("volumes", []):
            if "secret" in volume:
                assert volume["secret"]["secretName"] in secrets  # the generated, hash-suffixed names
    assert all(d["metadata"].get("namespace") == "isf" for d in docs if d["kind"] != "Namespace")
