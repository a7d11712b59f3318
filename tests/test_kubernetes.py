"""The Kubernetes manifests: both kustomizations render with `kubectl kustomize`, every object is valid
for the stated Kubernetes version, every setting they pass exists in `bot/settings.py`, and the port
and health path they use are the ones the image and the code serve."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from bot.settings import ENV_NAMES

ROOT = Path(__file__).resolve().parent.parent
KUBERNETES_VERSION = "1.32"  # validated against this version's schemas
KUSTOMIZATIONS = ["base", "overlays/postgres"]


def render(name: str) -> list[dict]:
    kubectl = shutil.which("kubectl")
    assert kubectl is not None, "kubectl is missing: install Debian's kubectl (.ci/run does when it is absent)"
    out = subprocess.run(
        [kubectl, "kustomize", str(ROOT / "deploy" / "kubernetes" / name)], check=True, capture_output=True, text=True
    ).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def deployment(docs: list[dict]) -> dict:
    [found] = [d for d in docs if d["kind"] == "Deployment"]
    return found


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_every_object_is_valid(name):
    docs = render(name)
    assert {d["kind"] for d in docs} >= {"Deployment", "Service", "ConfigMap"}
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_settings_passed_exist_and_secrets_come_from_the_secret(name):
    docs = render(name)
    [container] = deployment(docs)["spec"]["template"]["spec"]["containers"]
    known = set(ENV_NAMES.values())
    names = {e["name"] for e in container.get("env", [])}
    for config in (d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("quaybot-config")):
        names |= set(config["data"])
    assert names and names <= known, names - known
    for entry in container["env"]:
        if entry["name"] in {"QUAY_TOKEN", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"}:
            assert "value" not in entry and entry["valueFrom"]["secretKeyRef"]["name"] == "quaybot"
    assert not [d for d in docs if d["kind"] == "Secret"]  # never committed with values


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_port_and_health_path_match_the_image_and_the_code(name):
    docs = render(name)
    spec = deployment(docs)["spec"]["template"]["spec"]
    [container] = spec["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    [port] = container["ports"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert f"EXPOSE {port['containerPort']}" in dockerfile and env["QUAYBOT_HTTP_PORT"] == str(port["containerPort"])
    assert env["QUAYBOT_HTTP_HOST"] == "0.0.0.0"
    server = (ROOT / "bot" / "slack" / "web.py").read_text()
    for probe in ("readinessProbe", "livenessProbe"):
        path = container[probe]["httpGet"]["path"]
        assert re.search(rf'web\.get\("{re.escape(path)}"', server), path
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] and security["capabilities"]["drop"] == ["ALL"]
    assert spec["securityContext"]["runAsNonRoot"] and "USER 10001" in dockerfile
    [service] = [d for d in docs if d["kind"] == "Service"]
    assert service["spec"]["ports"][0]["port"] == port["containerPort"]


def test_postgres_overlay_runs_replicas_without_a_volume_claim():
    docs = render("overlays/postgres")
    spec = deployment(docs)["spec"]
    assert spec["replicas"] >= 2 and spec["strategy"]["type"] == "RollingUpdate"
    assert not [d for d in docs if d["kind"] == "PersistentVolumeClaim"]
    assert not [v for v in spec["template"]["spec"]["volumes"] if "persistentVolumeClaim" in v]
    [database] = [e for e in spec["template"]["spec"]["containers"][0]["env"] if e["name"] == "QUAYBOT_DATABASE_URL"]
    assert database["valueFrom"]["secretKeyRef"] == {"name": "quaybot", "key": "database-url"}
    assert [d for d in docs if d["kind"] == "PodDisruptionBudget"]
    base = deployment(render("base"))["spec"]
    assert base["replicas"] == 1 and base["strategy"]["type"] == "Recreate"  # one pod on one SQLite file


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_a_pod_stop_fits_its_grace_period(name):
    """Kubernetes kills the pod when terminationGracePeriodSeconds is over: it must cover the preStop
    pause, the bot's own grace for commands in flight, and telling the users of those it cut short."""
    from bot.settings import Settings
    from bot.slack.serving import TELL_SECONDS

    spec = deployment(render(name))["spec"]["template"]["spec"]
    [container] = spec["containers"]
    command = container["lifecycle"]["preStop"]["exec"]["command"]
    # The image's base has sleep (tests/e2e/test_image.py runs it there).
    assert command[0] == "sleep" and "ARG BASE=python:3.11-slim" in (ROOT / "Dockerfile").read_text()
    env = {e["name"]: e.get("value") for e in container["env"]}
    grace = float(env.get("QUAYBOT_SHUTDOWN_GRACE_SECONDS") or Settings.model_fields["shutdown_grace_seconds"].default)
    unwind = 1.0  # interrupted commands get a second to stop
    needed = float(command[1]) + grace + 2 * TELL_SECONDS + unwind
    assert spec["terminationGracePeriodSeconds"] >= needed + 5, (spec["terminationGracePeriodSeconds"], needed)


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_the_liveness_probe_outlasts_the_wait_for_the_database(name):
    """A pod started beside its PostgreSQL waits for it (QUAYBOT_DATABASE_WAIT_SECONDS) before it
    serves /healthz: the liveness probe must not restart it during that wait."""
    from bot.settings import Settings

    [container] = deployment(render(name))["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    wait = float(env.get("QUAYBOT_DATABASE_WAIT_SECONDS") or Settings.model_fields["database_wait_seconds"].default)
    probe = container["livenessProbe"]
    tolerated = probe.get("initialDelaySeconds", 0) + probe.get("periodSeconds", 10) * probe.get("failureThreshold", 3)
    assert tolerated > wait + 15, (tolerated, wait)  # + the start after the wait (migrations, listening)
