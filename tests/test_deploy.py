"""The reference deployment (Dockerfile, deploy/): its files agree with the real CLI, app, config and specs.

Kubernetes substitutes ``$(VAR)`` in a container's args with the container's env, systemd ``${VAR}``
with its EnvironmentFile and ``%H`` with the host name; each command is parsed, after that
substitution, by ``vision.cli.build_parser()``.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path, PurePosixPath

import pytest
import yaml
from fastapi.testclient import TestClient

from api_support import make_config
from vision.api import create_app
from vision.cli import build_parser
from vision.config import VisionConfig, check_files
from vision.detectors.spec import load_spec, model_problems, parse_spec
from vision.store import open_store

ROOT = Path(__file__).resolve().parents[1]
KUBE = ROOT / "deploy" / "kubernetes"
SYSTEMD = ROOT / "deploy" / "systemd"
PROBE_PATHS = ("/healthz", "/readyz")
CONFIG_FILE = "/etc/vision/vision.yaml"
IMAGE_MODELS = "/app/models/"
SPOOL_DIR = "/var/lib/vision/spool"
HOST = "machine-1"  # what systemd puts for %H

KINDS = {
    "configmap.yaml": ["ConfigMap"],
    "secret.example.yaml": ["Secret"],
    "worker-statefulset.yaml": ["Service", "StatefulSet"],
    "serve-deployment.yaml": ["Deployment", "Service"],
    "kustomization.yaml": ["Kustomization"],
}


# -- reading the files ------------------------------------------------------------------------------


def documents(name: str) -> list[dict]:
    with (KUBE / name).open() as stream:
        return [doc for doc in yaml.safe_load_all(stream) if doc is not None]


def one(name: str, kind: str) -> dict:
    (doc,) = [doc for doc in documents(name) if doc["kind"] == kind]
    return doc


def workloads() -> dict[str, dict]:
    """StatefulSets and Deployments by name."""
    return {
        doc["metadata"]["name"]: doc
        for name in KINDS
        for doc in documents(name)
        if doc["kind"] in ("StatefulSet", "Deployment")
    }


def container(workload: str) -> dict:
    (only,) = workloads()[workload]["spec"]["template"]["spec"]["containers"]
    return only


def secret_data() -> dict[str, str]:
    return one("secret.example.yaml", "Secret")["stringData"]


def configmap() -> dict:
    return one("configmap.yaml", "ConfigMap")


def vision_yaml() -> dict:
    return yaml.safe_load(configmap()["data"]["vision.yaml"])


def container_env(workload: str) -> dict[str, str]:
    """The values Kubernetes gives a container's env: pod fields, Secret keys (from the example), literals."""
    secret = one("secret.example.yaml", "Secret")
    values = {}
    for item in container(workload).get("env", []):
        if "value" in item:
            values[item["name"]] = item["value"]
            continue
        source = item["valueFrom"]
        if "fieldRef" in source:
            assert source["fieldRef"]["fieldPath"] == "metadata.name", item
            values[item["name"]] = f"{workload}-0"
        else:
            ref = source["secretKeyRef"]
            assert ref["name"] == secret["metadata"]["name"], item
            assert ref["key"] in secret["stringData"], item
            values[item["name"]] = secret["stringData"][ref["key"]]
    return values


def container_argv(workload: str) -> list[str]:
    """command + args with ``$(VAR)`` substituted; a reference to an undefined VAR would stay literal, so it fails."""
    spec = container(workload)
    env = container_env(workload)

    def substitute(arg: str) -> str:
        for name in re.findall(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", arg):
            assert name in env, f"{workload}: $({name}) is not in the container's env"
        return re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda match: env[match[1]], arg)

    return [substitute(arg) for arg in [*spec["command"], *spec.get("args", [])]]


def probes(workload: str) -> dict[str, dict]:
    spec = container(workload)
    return {kind: spec[kind] for kind in ("startupProbe", "livenessProbe", "readinessProbe") if kind in spec}


def probe_port(workload: str, probe: dict) -> int:
    port = probe["httpGet"]["port"]
    if isinstance(port, int):
        return port
    (number,) = [p["containerPort"] for p in container(workload)["ports"] if p.get("name") == port]
    return number


def unit(name: str) -> dict[str, dict[str, list[str]]]:
    """A systemd unit: section -> key -> every value given (keys may repeat)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for raw in (SYSTEMD / name).read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        assert not line.endswith("\\"), f"{name}: keep each setting on one line: {line}"
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, sep, value = line.partition("=")
        assert sep and current is not None, f"{name}: not a setting: {line}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def env_file() -> dict[str, str]:
    values = {}
    for raw in (SYSTEMD / "vision.env.example").read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            key, sep, value = line.partition("=")
            assert sep, line
            values[key] = value
    return values


def exec_start_argv(name: str) -> list[str]:
    """ExecStart as systemd runs it: ``${VAR}`` from the env file (one word), ``%H`` the host name."""
    (command,) = unit(name)["Service"]["ExecStart"]
    env = env_file()

    def substitute(word: str) -> str:
        for var in re.findall(r"\$\{(\w+)\}", word):
            assert var in env, f"{name}: ${{{var}}} is not in vision.env.example"
        return re.sub(r"\$\{(\w+)\}", lambda match: env[match[1]], word).replace("%H", HOST)

    assert not re.search(r"\$[A-Za-z_]", command.replace("${", "")), f"{name}: use ${{VAR}} (one word), not $VAR"
    return [substitute(word) for word in shlex.split(command)]


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    instructions, pending = [], ""
    for raw in (ROOT / "Dockerfile").read_text().splitlines():
        if raw.lstrip().startswith("#"):
            continue
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        pending += raw
        if pending.strip():
            keyword, _, arguments = pending.strip().partition(" ")
            instructions.append((keyword.upper(), arguments.strip()))
        pending = ""
    return instructions


def parse(argv: list[str], program: str = "vision"):
    assert Path(argv[0]).name == program, argv
    return build_parser().parse_args(argv[1:])


# -- Kubernetes -------------------------------------------------------------------------------------


def test_every_manifest_parses_with_the_expected_kinds():
    assert sorted(p.name for p in KUBE.glob("*.yaml")) == sorted(KINDS)
    for name, kinds in KINDS.items():
        docs = documents(name)
        assert [doc["kind"] for doc in docs] == kinds, name
        for doc in docs:
            assert doc["apiVersion"], name
            if doc["kind"] != "Kustomization":
                assert doc["metadata"]["name"].startswith("vision"), name


def test_kustomization_lists_every_manifest_but_the_example_secret():
    kustomization = documents("kustomization.yaml")[0]
    assert sorted(kustomization["resources"]) == sorted(set(KINDS) - {"kustomization.yaml", "secret.example.yaml"})
    images = {image["name"] for image in kustomization["images"]}
    assert {container(name)["image"].split(":")[0] for name in workloads()} <= images


def test_worker_statefulset_gives_each_worker_a_stable_id_and_its_own_spool():
    service = one("worker-statefulset.yaml", "Service")
    statefulset = one("worker-statefulset.yaml", "StatefulSet")
    spec = statefulset["spec"]
    pod = spec["template"]["spec"]
    assert spec["replicas"] == 3
    assert spec["podManagementPolicy"] == "Parallel"
    assert spec["serviceName"] == service["metadata"]["name"]
    assert service["spec"]["clusterIP"] == "None"
    assert service["spec"]["selector"] == spec["selector"]["matchLabels"] == spec["template"]["metadata"]["labels"]
    assert pod["terminationGracePeriodSeconds"] == 30

    env = {item["name"]: item for item in container("vision-worker")["env"]}
    assert env["POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    assert "--worker-id=$(POD_NAME)" in container("vision-worker")["args"]

    (claim,) = spec["volumeClaimTemplates"]
    assert claim["spec"]["resources"]["requests"]["storage"] == "5Gi"
    mounts = {m["name"]: m["mountPath"] for m in container("vision-worker")["volumeMounts"]}
    assert mounts[claim["metadata"]["name"]] == SPOOL_DIR == vision_yaml()["store"]["spool_dir"]

    resources = container("vision-worker")["resources"]
    assert set(resources) == {"requests", "limits"}
    assert {"cpu", "memory"} <= set(resources["requests"]) and {"cpu", "memory"} <= set(resources["limits"])


def test_serve_deployment_has_two_replicas_behind_port_80():
    deployment = one("serve-deployment.yaml", "Deployment")
    service = one("serve-deployment.yaml", "Service")
    assert deployment["spec"]["replicas"] == 2
    assert service["spec"]["selector"] == deployment["spec"]["template"]["metadata"]["labels"]
    (port,) = service["spec"]["ports"]
    assert port["port"] == 80
    (container_port,) = container("vision-serve")["ports"]
    assert port["targetPort"] in (container_port["name"], container_port["containerPort"])
    assert container_port["containerPort"] == 8000


def test_pods_mount_the_configmap_where_the_commands_read_the_config():
    name = configmap()["metadata"]["name"]
    config = PurePosixPath(CONFIG_FILE)
    assert config.name in configmap()["data"]
    for workload, doc in workloads().items():
        volumes = {v["name"]: v for v in doc["spec"]["template"]["spec"]["volumes"]}
        mounts = {m["mountPath"]: m["name"] for m in container(workload)["volumeMounts"]}
        assert volumes[mounts[str(config.parent)]]["configMap"]["name"] == name, workload
        assert CONFIG_FILE in container(workload)["args"], workload


def test_probe_paths_are_health_routes_and_the_apis_exist_in_the_real_app(tmp_path):
    for workload in workloads():
        for kind, probe in probes(workload).items():
            assert probe["httpGet"]["path"] in PROBE_PATHS, (workload, kind)
    worker = probes("vision-worker")
    assert worker["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert worker["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert {probe_port("vision-worker", p) for p in worker.values()} == {8001}

    serve = probes("vision-serve")
    assert serve["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert serve["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert {probe_port("vision-serve", p) for p in serve.values()} == {8000}

    config = make_config(tmp_path)
    store = open_store(config.store.url)
    try:
        store.sync_config(config)
        app = create_app(config, store)
        # The app's own route table (app.routes nests included routers, whose shape varies by FastAPI version).
        routes = app.openapi()["paths"]
        client = TestClient(app)
        for probe in serve.values():
            path = probe["httpGet"]["path"]
            assert "get" in routes.get(path, {}), path
            assert client.get(path).status_code in (200, 503), path
        assert client.get("/healthz").status_code == 200
        assert "ready" in client.get("/readyz").json()
        assert client.get("/metrics").status_code == 200
    finally:
        store.close()


# -- the commands, through the real CLI parser ------------------------------------------------------


def test_serve_commands_parse_with_the_cli():
    secret_url = secret_data()["VISION_STORE_URL"]
    container_args = parse(container_argv("vision-serve"))
    unit_args = parse(exec_start_argv("vision-serve.service"))
    for args in (container_args, unit_args):
        assert args.command == "serve"
        assert args.config == Path(CONFIG_FILE)
        assert args.host == "0.0.0.0"
        assert args.port == 8000
    assert_store_url_from_the_environment("vision-serve", container_args, unit_args, secret_url)


def test_worker_commands_parse_with_the_cli():
    container_args = parse(container_argv("vision-worker"))
    unit_args = parse(exec_start_argv("vision-worker.service"))
    for args in (container_args, unit_args):
        assert args.command == "worker"
        assert args.config == Path(CONFIG_FILE)
        assert args.host == "0.0.0.0"
        assert args.port == 8001
    assert container_args.worker_id == "vision-worker-0"
    assert unit_args.worker_id == HOST
    assert_store_url_from_the_environment("vision-worker", container_args, unit_args, secret_data()["VISION_STORE_URL"])


def assert_store_url_from_the_environment(workload, container_args, unit_args, secret_url) -> None:
    """No password on a command line: the CLI takes $VISION_STORE_URL (from the Secret / env file)."""
    from vision.store.database import STORE_ENV, resolve_store_url

    assert container_args.store is None and unit_args.store is None
    assert container_env(workload)[STORE_ENV] == secret_url
    for environment in (container_env(workload), env_file()):
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv(STORE_ENV, environment[STORE_ENV])
            assert resolve_store_url(None, "sqlite:///ignored.db") == environment[STORE_ENV]


# -- the example config and its detector spec -------------------------------------------------------


def _config_on_this_checkout(tmp_path) -> dict:
    """vision.yaml with /etc/vision/ at tmp_path (holding the ConfigMap's files) and /app/models/ at models/."""
    for key, text in configmap()["data"].items():
        (tmp_path / key).write_text(text.replace(IMAGE_MODELS, f"{ROOT / 'models'}/"))
    return yaml.safe_load((tmp_path / "vision.yaml").read_text().replace("/etc/vision/", f"{tmp_path}/"))


def test_configmap_config_validates_and_names_files_that_exist(tmp_path):
    data = _config_on_this_checkout(tmp_path)
    data.pop("workers")  # the #13 section: the next test
    config = VisionConfig.model_validate(data)
    assert model_problems(config.cameras) + check_files(config) == []
    assert config.store.url.startswith("postgresql+psycopg://")
    assert len(config.cameras) >= 2 and all(str(c.source).startswith("rtsp://") for c in config.cameras)


def test_configmap_workers_section_is_a_valid_config():
    config = VisionConfig.model_validate(vision_yaml())
    assert config.workers.lease_ttl_s == 15
    assert config.workers.capacity == 4
    assert str(config.store.spool_dir) == SPOOL_DIR


def test_configmap_spec_is_models_helmet_with_image_paths_and_the_pods_threads():
    data = yaml.safe_load(configmap()["data"]["helmet.yaml"])
    for field in ("path", "evaluation"):
        assert data[field].startswith(IMAGE_MODELS), field
        data[field] = data[field].removeprefix(IMAGE_MODELS)
    spec = parse_spec(data, ROOT / "models")
    shipped = load_spec(ROOT / "models" / "helmet.yaml")
    limit = container("vision-worker")["resources"]["limits"]["cpu"]
    assert spec.threads == int(limit) == int(container("vision-worker")["resources"]["requests"]["cpu"])
    assert spec.model_dump() == shipped.model_copy(update={"threads": spec.threads}).model_dump()
    assert spec.path.is_file() and spec.evaluation is not None and spec.evaluation.is_file()


def test_secret_and_env_file_hold_the_same_settings():
    assert set(secret_data()) == set(env_file()) == {"VISION_STORE_URL", "VISION_API_TOKEN"}
    for values in (secret_data(), env_file()):
        assert values["VISION_STORE_URL"].startswith("postgresql+psycopg://")
        assert len(values["VISION_API_TOKEN"]) >= 16


# -- systemd ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["vision-worker.service", "vision-serve.service"])
def test_systemd_units_restart_stop_gracefully_and_are_hardened(name):
    service = unit(name)["Service"]
    expected = {
        "EnvironmentFile": ["/etc/vision/vision.env"],
        "KillSignal": ["SIGTERM"],
        "TimeoutStopSec": ["30"],
        "Restart": ["always"],
        "RestartSec": ["5"],
        "NoNewPrivileges": ["yes"],
        "ProtectSystem": ["strict"],
        "PrivateTmp": ["yes"],
    }
    for key, value in expected.items():
        assert service.get(key) == value, (name, key)
    assert exec_start_argv(name)[0] == "/opt/vision/.venv/bin/vision"
    assert service["User"] != ["root"]
    assert unit(name)["Install"]["WantedBy"] == ["multi-user.target"]


def test_worker_unit_keeps_the_spool_in_its_state_directory_under_the_host_name():
    service = unit("vision-worker.service")["Service"]
    (state,) = service["StateDirectory"]
    state_dir = f"/var/lib/{state}"
    assert SPOOL_DIR.startswith(state_dir + "/")
    assert state_dir in " ".join(service["ReadWritePaths"]).split()
    (command,) = service["ExecStart"]
    assert "--worker-id=%H" in command.split()


# -- the image --------------------------------------------------------------------------------------


def test_dockerfile_installs_the_postgres_extra_without_torch_and_serves_by_default():
    instructions = dockerfile()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    runs = [arguments for keyword, arguments in instructions if keyword == "RUN"]
    apt = next(run for run in runs if "apt-get install" in run)
    assert {"libgl1", "libglib2.0-0"} <= set(shlex.split(apt))
    (pip,) = [run for run in runs if "pip install" in run]
    assert ".[postgres]" in shlex.split(pip)
    assert not any(word in pip for word in ("train", "torch", "ultralytics"))
    assert not any("torch" in arguments for _, arguments in instructions)

    workdir, copied = "/", {}
    for keyword, arguments in instructions:
        if keyword == "WORKDIR":
            workdir = arguments
        elif keyword == "COPY":
            *sources, target = arguments.split()
            for source in sources:
                copied[source] = str(PurePosixPath(workdir) / target)
    assert copied["models"] == IMAGE_MODELS.rstrip("/")
    assert "configs" in copied

    (user,) = [arguments for keyword, arguments in instructions if keyword == "USER"]
    uid = user.split(":")[0]
    assert uid not in ("0", "root")
    for workload, doc in workloads().items():
        assert str(doc["spec"]["template"]["spec"]["securityContext"]["runAsUser"]) == uid, workload

    (cmd,) = [arguments for keyword, arguments in instructions if keyword == "CMD"]
    args = parse(json.loads(cmd))  # exec form: vision is PID 1 and gets SIGTERM itself
    assert args.command == "serve"
    assert args.config == Path(CONFIG_FILE)
    assert args.host == "0.0.0.0"


def test_dockerignore_leaves_out_build_outputs_but_not_what_the_image_copies():
    patterns = [
        line.strip().rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert {"build", "out", ".venv", ".git"} <= set(patterns)
    copied = {source for keyword, arguments in dockerfile() if keyword == "COPY" for source in arguments.split()[:-1]}
    assert copied == {"pyproject.toml", "README.md", "LICENSE", "vision", "models", "configs"}
    for source in copied:
        assert not any(PurePosixPath(source).match(pattern) for pattern in patterns), source
        assert (ROOT / source).exists(), source


def test_workers_write_evidence_where_serve_reads_it():
    """The pods' root filesystems are read-only and serve runs elsewhere: evidence goes to the store."""
    from vision.config import VisionConfig

    config = VisionConfig.model_validate(yaml.safe_load(one("configmap.yaml", "ConfigMap")["data"]["vision.yaml"]))
    assert config.evidence.in_database(config.store.url)
    for name, workload in workloads().items():
        mounts = {m["mountPath"] for m in workload["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]}
        assert not any(path.startswith("/app") for path in mounts), name
