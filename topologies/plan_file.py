"""A reviewable plan: ``topology plan --json -o plan.json`` now, ``topology apply --plan plan.json`` later.

Onboarding a force is a governance step, so what ``apply`` will do is written down, reviewed
(in a pull request, say) and then applied exactly: ``apply --plan`` plans again against the
cluster as it is at that moment and refuses when the result differs from the reviewed file, in
its actions or in the topology they came from. The cluster (or the topology) drifted; plan
again and have the new plan reviewed.

Only the actions are compared, not the deletes held back: on a shared cluster other teams'
``bluelight.*`` objects come and go, and a held-back delete is never run.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from topologies.desired import DesiredState
from topologies.plan import Plan

FORMAT = "bluelight-plan/1"
EXIT_DRIFT = 4  # plan: the cluster differs from the topology; apply --plan: it changed since the plan


def desired_digest(desired: DesiredState) -> str:
    """A sha256 of everything the topology declares (topics with their settings, users, ACLs)."""
    topics = [
        [t.name, t.partitions, t.replication_factor, sorted(t.config.items())]
        for t in sorted(desired.topics.values(), key=lambda t: t.name)
    ]
    acls = sorted(b.describe() for b in desired.acls)
    text = json.dumps(
        {"topics": topics, "users": sorted(desired.users), "acls": acls, "hub": desired.hub_user}
    )
    return hashlib.sha256(text.encode()).hexdigest()


def plan_document(
    plan: Plan, *, bootstrap: str, allow_delete: bool, topology_digest: str, created_at: datetime
) -> dict[str, Any]:
    """The plan as JSON-able data: what apply will run, what it holds back, and where."""
    return {
        "format": FORMAT,
        "created_at": created_at.isoformat(timespec="seconds"),
        "bootstrap": bootstrap,
        "allow_delete": allow_delete,
        "topology_sha256": topology_digest,
        "drift": bool(plan.actions),
        "actions": [a.describe() for a in plan.actions],
        "skipped_deletes": [a.describe() for a in plan.skipped],
        "notes": list(plan.notes),
    }


class PlanFileError(ValueError):
    """The file is not a plan this release wrote."""


def read_plan_document(text: str) -> dict[str, Any]:
    """A plan file's data, checked for the fields ``apply --plan`` needs."""
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise PlanFileError(f"not JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise PlanFileError(f"not a {FORMAT} file (write one with `bluelight topology plan --json -o FILE`)")
    for key, kind in (
        ("actions", list),
        ("allow_delete", bool),
        ("topology_sha256", str),
        ("bootstrap", str),
    ):
        if not isinstance(doc.get(key), kind):
            raise PlanFileError(f"field {key!r} is missing or not a {kind.__name__}")
    return doc


def drift_since(reviewed: Mapping[str, Any], fresh: Plan, topology_digest: str) -> list[str]:
    """Why the fresh plan is not the reviewed one (empty: apply it)."""
    reasons: list[str] = []
    if reviewed["topology_sha256"] != topology_digest:
        reasons.append("the topology files changed since the plan was made")
    was, now = list(reviewed["actions"]), [a.describe() for a in fresh.actions]
    if was != now:
        reasons += [f"no longer planned: {a}" for a in was if a not in now]
        reasons += [f"newly planned: {a}" for a in now if a not in was]
        if not reasons or (len(reasons) == 1 and reviewed["topology_sha256"] != topology_digest):
            reasons.append("the same actions, in another order")
    return reasons
