"""The custom resources (Strimzi, prometheus-operator) pass their operators' schemas, checked offline by
deploy/validate (Node): a cluster's API server would refuse what the schema refuses, so a wrong type or a
missing field is caught here, not at `kubectl apply`."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from topologies import kubernetes, strimzi
from topologies.model import load_topology

ROOT = Path(__file__).resolve().parents[2]
VALIDATOR = ROOT / "deploy" / "validate"
Doc = dict[str, Any]


def validate(*paths: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    assert node, "Node.js is needed for the custom resources' schema check: run ./hub test"
    assert (VALIDATOR / "node_modules").is_dir(), "deploy/validate is not installed: run ./hub setup"
    cmd = [node, str(VALIDATOR / "validate.mjs"), *map(str, paths)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)


def fresh_export(directory: Path) -> list[Path]:
    """Today's export, as `bluelight topology export` writes it."""
    topology = load_topology()
    files = {**kubernetes.export(topology), **strimzi.export(topology)}
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
    return [directory / name for name in files]


def test_the_committed_and_freshly_exported_resources_pass(tmp_path: Path) -> None:
    committed = validate(ROOT / "deploy" / "k8s", ROOT / "deploy" / "strimzi")
    assert committed.returncode == 0, committed.stderr
    fresh = validate(*fresh_export(tmp_path))
    assert fresh.returncode == 0, fresh.stderr
    # every custom resource was looked at: Kafka, KafkaNodePool, the topics, the users, two monitors
    topology = load_topology()
    topics_and_users = sum(
        1 for name in ("topics.yaml", "users.yaml")
        for d in yaml.safe_load_all(strimzi.export(topology)[name]) if d
    )  # fmt: skip
    assert f"{topics_and_users + 4} custom resources checked, 0 problems" in fresh.stdout


def first(docs: list[Doc], kind: str) -> Doc:
    return next(d for d in docs if d["kind"] == kind)


def topic_partitions_as_words(docs: list[Doc]) -> Doc:
    topic = first(docs, "KafkaTopic")
    topic["spec"]["partitions"] = "three"
    return topic


def kafka_without_its_kafka(docs: list[Doc]) -> Doc:
    kafka = first(docs, "Kafka")
    del kafka["spec"]["kafka"]
    return kafka


def pool_with_an_unknown_role(docs: list[Doc]) -> Doc:
    pool = first(docs, "KafkaNodePool")
    pool["spec"]["roles"] = ["broker", "zookeeper"]
    return pool


def user_with_a_bad_acl_operation(docs: list[Doc]) -> Doc:
    user = first(docs, "KafkaUser")
    user["spec"]["authorization"]["acls"][0]["operations"] = ["Readd"]
    return user


def monitor_endpoint_port_as_a_list(docs: list[Doc]) -> Doc:
    monitor = first(docs, "PodMonitor")
    monitor["spec"]["podMetricsEndpoints"][0]["port"] = ["metrics"]
    return monitor


def rule_without_an_expression(docs: list[Doc]) -> Doc:
    rule = first(docs, "PrometheusRule")
    del rule["spec"]["groups"][0]["rules"][0]["expr"]
    return rule


def topic_with_a_misspelt_spec(docs: list[Doc]) -> Doc:
    topic = first(docs, "KafkaTopic")
    topic["specs"] = topic.pop("spec")
    return topic


def an_operator_kind_we_do_not_export(docs: list[Doc]) -> Doc:
    return {"apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaBridge", "metadata": {"name": "b"}, "spec": {}}


BREAKAGES: list[tuple[Callable[[list[Doc]], Doc], str]] = [
    (topic_partitions_as_words, "/spec/partitions: must be integer"),
    (kafka_without_its_kafka, "/spec: must have required property kafka"),
    (pool_with_an_unknown_role, "/spec/roles/1: must be equal to one of the allowed values"),
    (user_with_a_bad_acl_operation, "/spec/authorization/acls/0/operations/0: must be equal to one of"),
    (monitor_endpoint_port_as_a_list, "/spec/podMetricsEndpoints/0/port: must be string"),
    (rule_without_an_expression, "/spec/groups/0/rules/0: must have required property expr"),
    (topic_with_a_misspelt_spec, "unknown top-level field specs"),
    (an_operator_kind_we_do_not_export, "unknown kind kafka.strimzi.io/v1/KafkaBridge"),
]


@pytest.mark.parametrize(("breakage", "message"), BREAKAGES, ids=[b.__name__ for b, _ in BREAKAGES])
def test_a_broken_resource_is_refused_naming_file_kind_and_name(
    tmp_path: Path, breakage: Callable[[list[Doc]], Doc], message: str
) -> None:
    docs = [d for f in fresh_export(tmp_path) for d in yaml.safe_load_all(f.read_text()) if d]
    broken = breakage(docs)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(broken), encoding="utf-8")
    result = validate(path)
    assert result.returncode == 1
    name = broken["metadata"]["name"]
    assert f"{path}: {broken['kind']} {name}: " in result.stderr
    assert message in result.stderr, result.stderr


def test_unknown_fields_below_the_top_level_still_pass(tmp_path: Path) -> None:
    """The schemas allow extra properties (the CRDs do not forbid them; the API server prunes them), as
    docs/kubernetes.md says: if a new schema version starts refusing them, this fails and the docs change."""
    docs = [d for f in fresh_export(tmp_path) for d in yaml.safe_load_all(f.read_text()) if d]
    monitor = first(docs, "PodMonitor")
    monitor["spec"]["podMetricsEndpoints"][0]["intervall"] = "30s"
    path = tmp_path / "extra.yaml"
    path.write_text(yaml.safe_dump(monitor), encoding="utf-8")
    result = validate(path)
    assert (result.returncode, result.stdout.strip()) == (0, "1 custom resources checked, 0 problems")
