"""deploy/k8s: equal to a fresh export, valid against the Kubernetes schemas (offline), and wired
together: the worker signs in as the topology's hub user, the monitors select the pods, the
PrometheusRule carries the alert rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from topologies import kubernetes, strimzi
from topologies.model import load_topology

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "deploy" / "k8s"
KUBERNETES_VERSION = "1.33.0"  # the oldest Kubernetes release still in upstream support
CORE_KINDS = {"StatefulSet", "Deployment", "Service"}


def documents(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(kubernetes.export(load_topology())[name]) if d]


def everything() -> list[dict[str, Any]]:
    return [d for name in ("kafka.yaml", "hub.yaml", "monitoring.yaml") for d in documents(name)]


def by_kind(kind: str) -> list[dict[str, Any]]:
    return [d for d in everything() if d["kind"] == kind]


def test_committed_manifests_equal_a_fresh_export() -> None:
    fresh = kubernetes.export(load_topology())
    committed = {p.name: p.read_text(encoding="utf-8") for p in COMMITTED.glob("*.yaml")}
    assert committed == fresh, "deploy/k8s is stale: run `bluelight topology export --kubernetes deploy/k8s`"


def test_the_whole_hub_is_there() -> None:
    kinds = sorted(d["kind"] for d in everything())
    assert kinds == sorted(
        [
            "Kafka",
            "KafkaNodePool",
            "StatefulSet",
            "Service",
            "Deployment",
            "Service",
            "PodMonitor",
            "PrometheusRule",
        ]
    )
    worker = by_kind("StatefulSet")[0]
    assert worker["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "state"
    mounts = worker["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
    assert {"name": "state", "mountPath": kubernetes.STATE_DIR} in mounts


@pytest.mark.parametrize("doc", [d for d in everything() if d["kind"] in CORE_KINDS], ids=lambda d: d["kind"])
def test_core_resources_validate_strictly_against_the_kubernetes_schema(doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_the_schema_check_catches_a_misspelt_field() -> None:
    worker = by_kind("StatefulSet")[0]
    worker["spec"]["replica"] = worker["spec"].pop("replicas")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(worker, KUBERNETES_VERSION, strict=True)


def test_strimzi_resources_use_the_v1_api_and_belong_to_the_cluster() -> None:
    kafka = by_kind("Kafka")[0]
    pool = by_kind("KafkaNodePool")[0]
    assert kafka["apiVersion"] == pool["apiVersion"] == strimzi.API_VERSION == "kafka.strimzi.io/v1"
    assert pool["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
    assert set(pool["spec"]["roles"]) == {"controller", "broker"}  # KRaft: no ZooKeeper
    for name in ("topics.yaml", "users.yaml"):
        for d in yaml.safe_load_all(strimzi.export(load_topology())[name]):
            assert d["apiVersion"] == "kafka.strimzi.io/v1"
            assert d["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]


def test_the_worker_signs_in_as_the_topologys_hub_user() -> None:
    users = {d["metadata"]["name"] for d in yaml.safe_load_all(strimzi.export(load_topology())["users.yaml"])}
    env = {
        e["name"]: e for e in by_kind("StatefulSet")[0]["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    user = env["BLUELIGHT_SASL_USERNAME"]["value"]
    assert user == load_topology().hub.principal and user in users
    # Strimzi's User Operator keeps the password in a Secret named after the KafkaUser
    assert env["BLUELIGHT_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": user, "key": "password"}
    kafka = by_kind("Kafka")[0]
    assert env["BLUELIGHT_BOOTSTRAP"]["value"] == f"{kafka['metadata']['name']}-kafka-bootstrap:9092"


def test_services_and_monitors_select_the_pods() -> None:
    pods = {
        d["metadata"]["name"]: d["spec"]["template"]["metadata"]["labels"]
        for d in everything()
        if "template" in d.get("spec", {})
    }
    for svc in by_kind("Service"):
        assert svc["spec"]["selector"].items() <= pods[svc["metadata"]["name"]].items()
    monitor = by_kind("PodMonitor")[0]
    worker_labels = pods[kubernetes.WORKER]
    assert monitor["spec"]["selector"]["matchLabels"].items() <= worker_labels.items()
    # the job label the alert rules expect: job="bluelight-worker"
    assert worker_labels[monitor["spec"]["jobLabel"]] == "bluelight-worker"


def test_the_prometheus_rule_carries_the_alert_rules() -> None:
    rule = by_kind("PrometheusRule")[0]
    assert rule["spec"]["groups"] == yaml.safe_load(kubernetes.ALERTS.read_text())["groups"]
