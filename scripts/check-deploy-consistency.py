#!/usr/bin/env python3
"""Checks that MediaVault's deployment files agree with each other and with the configuration reference.

- Every environment variable the deployment files give to MediaVault (docker-compose*.yml, infra/k8s, the
  Dockerfiles' ENV, the $env references of infra/*.infra.json) is a setting in docs/configuration.md; a
  third-party image's own variables (POSTGRES_* of postgres, MINIO_*, GF_*, ...) are allowed per service.
- Every ${VARIABLE} the compose files interpolate is a setting or is documented in docs/deployment.md.
- Ports 4000 (gateway) and 9090 (worker) and the health paths /healthz and /readyz agree across the
  Dockerfiles (EXPOSE, HEALTHCHECK, ENV), compose (ports, healthchecks, environment), Kubernetes
  (containerPort, probes, Service, annotations, ConfigMap) and the Prometheus targets.
- Images, Dockerfiles, mounted files, health-gated dependencies and NSQ names line up.

Usage: scripts/check-deploy-consistency.py [--strict]   (--strict: settings not yet documented fail too)
Needs Python 3 with PyYAML. Prints one line per problem and a summary; exits 1 when something is wrong.
"""

import json
import re
import sys
from pathlib import Path

try:
    import yaml
except ImportError:  # pragma: no cover - reported to the user
    sys.exit("error: PyYAML is required (pip install pyyaml, or apt-get install python3-yaml)")

ROOT = Path(__file__).resolve().parent.parent

# Settings the code is announced to read that docs/configuration.md does not list yet. Each use is a warning
# (an error with --strict) until the reference documents it; then the entry can go.
ANNOUNCED_SETTINGS = {
    "STORAGE_BACKEND", "STORAGE_DIR",
    "S3_ENDPOINT", "S3_PUBLIC_ENDPOINT", "S3_ACCESS_KEY", "S3_SECRET_KEY", "S3_BUCKET", "S3_USE_SSL",
    "S3_REGION", "S3_CREATE_BUCKET", "S3_CONFIGURE_CORS",
    "MAX_UPLOAD_BYTES", "ALLOWED_MIME_TYPES", "DEFAULT_QUOTA_BYTES",
    "NSQ_HOSTS",
    "WORKER_HTTP_HOST", "WORKER_HTTP_PORT", "WORKER_CONCURRENCY", "JOB_MAX_ATTEMPTS", "JOB_TIMEOUT_SECONDS",
    "FFMPEG_CRF", "FFMPEG_PRESET", "FFMPEG_MAX_HEIGHT", "FFMPEG_MAX_FPS", "FFMPEG_AUDIO_BITRATE",
    "FFMPEG_THREADS", "TRANSCODE_POLICY",
}

# Compose services built from this repository: their environment must consist of MediaVault settings.
APP_SERVICES = {"gateway": "Dockerfile", "worker": "Dockerfile.processing"}

# Third-party services: the variables their images read (exact names, or prefixes ending in "_").
THIRD_PARTY_ENV = {
    "postgres": {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB", "POSTGRES_INITDB_ARGS", "PGDATA"},
    "minio": {"MINIO_"},
    # minio-init's script reads the MinIO root account and MediaVault's own S3 settings (same meaning).
    "minio-init": {"MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD", "S3_BUCKET", "S3_ACCESS_KEY", "S3_SECRET_KEY"},
    "nsqlookupd": set(),
    "nsqd": set(),
    "nsqadmin": set(),
    "prometheus": set(),
    "grafana": {"GF_"},
}

# Variables of the Swift runtime itself that the Dockerfiles set (not MediaVault settings).
RUNTIME_ENV = {"SWIFT_BACKTRACE"}

GATEWAY_IMAGE = "mediavault"
WORKER_IMAGE = "mediavault-processing"
DEFAULT_WORKER_PORT = 9090


class Report:
    def __init__(self, strict):
        self.strict = strict
        self.checks = 0
        self.problems = []
        self.warnings = []

    def check(self, condition, message):
        self.checks += 1
        if not condition:
            self.problems.append(message)
            print(f"FAIL  {message}")
        return condition

    def warn(self, message):
        if self.strict:
            self.check(False, message)
        else:
            self.warnings.append(message)
            print(f"warn  {message}")


def read(path):
    return (ROOT / path).read_text(encoding="utf-8")


def load_yaml_documents(path):
    return [doc for doc in yaml.safe_load_all(read(path)) if doc is not None]


def documented_settings():
    """Setting names and defaults from the table in docs/configuration.md."""
    settings = {}
    for line in read("docs/configuration.md").splitlines():
        match = re.match(r"^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|([^|]*)\|([^|]*)\|", line)
        if match:
            default = match.group(3).strip().strip("`")
            settings[match.group(1)] = default
    return settings


def env_items(environment):
    """Compose `environment:` as a dict, whether written as a mapping or a list."""
    if environment is None:
        return {}
    if isinstance(environment, dict):
        return {str(k): ("" if v is None else str(v)) for k, v in environment.items()}
    items = {}
    for entry in environment:
        name, _, value = str(entry).partition("=")
        items[name] = value
    return items


def merged_compose(files):
    """Services of several compose files merged the way compose overrides them (enough for these checks)."""
    services = {}
    for path in files:
        data = yaml.safe_load(read(path)) or {}
        for name, service in (data.get("services") or {}).items():
            target = services.setdefault(name, {})
            for key, value in (service or {}).items():
                if key == "environment":
                    env = env_items(target.get("environment"))
                    env.update(env_items(value))
                    target["environment"] = env
                elif key == "ports":
                    target["ports"] = list(target.get("ports", [])) + list(value)
                else:
                    target[key] = value
    return services


def container_ports(ports):
    result = set()
    for entry in ports or []:
        if isinstance(entry, dict):
            result.add(int(entry["target"]))
            continue
        text = str(entry).split("/")[0]
        result.add(int(text.rsplit(":", 1)[-1]))
    return result


def healthcheck_target(test):
    """(port, path) of the first http://host:port/path in a healthcheck command."""
    text = " ".join(test) if isinstance(test, list) else str(test or "")
    match = re.search(r"https?://[^/:\s\"]+:(?:\$\{[A-Z_]+:-)?(\d+)\}?(/[A-Za-z0-9_/.-]*)", text)
    return (int(match.group(1)), match.group(2)) if match else (None, None)


def dockerfile_instructions(path):
    """(instruction, arguments) pairs with continuation lines joined and comments dropped."""
    instructions, current = [], ""
    for raw in read(path).splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if current and line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        keyword, _, rest = current.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
        current = ""
    return instructions


def dockerfile_env(instructions):
    env = {}
    for keyword, rest in instructions:
        if keyword != "ENV":
            continue
        for name, value in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=(\"[^\"]*\"|\S*)", rest):
            env[name] = value.strip('"')
    return env


def final_stage(instructions):
    """Instructions of the last build stage (the runtime image)."""
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def k8s_documents():
    documents = {}
    for path in sorted((ROOT / "infra/k8s").glob("*.yaml")):
        for doc in load_yaml_documents(path.relative_to(ROOT)):
            documents.setdefault(path.name, []).append(doc)
    return documents


def named_port(container, port):
    if isinstance(port, int):
        return port
    for entry in container.get("ports", []):
        if entry.get("name") == port:
            return entry.get("containerPort")
    return None


def main():
    arguments = sys.argv[1:]
    if any(a in ("-h", "--help") for a in arguments):
        print(__doc__.strip())
        return 0
    unknown = [a for a in arguments if a != "--strict"]
    if unknown:
        print(f"error: unknown argument {unknown[0]} (see --help)", file=sys.stderr)
        return 2
    report = Report(strict="--strict" in arguments)
    settings = documented_settings()
    report.check(bool(settings), "docs/configuration.md: no settings table found")
    deployment_doc = read("docs/deployment.md") if (ROOT / "docs/deployment.md").exists() else ""
    report.check(bool(deployment_doc), "docs/deployment.md is missing")

    pending = {}  # announced settings in use that the reference does not list yet, with where they appear

    def check_setting(name, where):
        if name in settings:
            report.check(True, "")
        elif name in ANNOUNCED_SETTINGS:
            pending.setdefault(name, set()).add(where.split(" ")[0])
        else:
            report.check(False, f"{where}: {name} is not a setting in docs/configuration.md")

    gateway_port = int(settings.get("HTTP_PORT") or 4000)
    worker_default = settings.get("WORKER_HTTP_PORT", "")
    worker_port = int(worker_default) if worker_default.isdigit() else DEFAULT_WORKER_PORT
    expected = {"gateway": (gateway_port, "HTTP_PORT"), "worker": (worker_port, "WORKER_HTTP_PORT")}

    # --- Dockerfiles ---------------------------------------------------------------------------------------
    for service, dockerfile in APP_SERVICES.items():
        port, port_setting = expected[service]
        stage = final_stage(dockerfile_instructions(dockerfile))
        env = dockerfile_env(stage)
        for name in env:
            if name not in RUNTIME_ENV:
                check_setting(name, f"{dockerfile} ENV")
        if port_setting in env:
            report.check(env[port_setting] == str(port), f"{dockerfile}: ENV {port_setting}={env[port_setting]}, "
                         f"expected {port}")
        exposed = {int(p.split("/")[0]) for k, rest in stage if k == "EXPOSE" for p in rest.split()}
        report.check(exposed == {port}, f"{dockerfile}: EXPOSE {sorted(exposed)}, expected [{port}]")
        health = [rest for k, rest in stage if k == "HEALTHCHECK"]
        report.check(len(health) == 1, f"{dockerfile}: expected one HEALTHCHECK")
        if health:
            hc_port, hc_path = healthcheck_target(health[0])
            report.check((hc_port, hc_path) == (port, "/healthz"),
                         f"{dockerfile}: HEALTHCHECK probes {hc_port}{hc_path}, expected {port}/healthz")
        users = [rest for k, rest in stage if k == "USER"]
        report.check(bool(users) and not users[-1].startswith(("root", "0")),
                     f"{dockerfile}: the runtime stage must switch to a non-root USER")

    # --- docker compose ------------------------------------------------------------------------------------
    compose_files = ["docker-compose.yml", "docker-compose.dev.yml"]
    base = merged_compose(["docker-compose.yml"])
    dev = merged_compose(compose_files)
    for label, services in (("docker-compose.yml", base), ("docker-compose.dev.yml", dev)):
        for name, service in services.items():
            env = env_items(service.get("environment"))
            if name in APP_SERVICES:
                for variable in env:
                    check_setting(variable, f"{label} service {name}")
            elif name in THIRD_PARTY_ENV:
                allowed = THIRD_PARTY_ENV[name]
                for variable in env:
                    ok = variable in allowed or any(p.endswith("_") and variable.startswith(p) for p in allowed)
                    report.check(ok, f"{label} service {name}: {variable} is not in its allowlist "
                                     "(scripts/check-deploy-consistency.py THIRD_PARTY_ENV)")
            else:
                report.check(False, f"{label}: service {name} has no environment allowlist "
                                    "(add it to THIRD_PARTY_ENV or APP_SERVICES)")
            for dependency, condition in (service.get("depends_on") or {}).items() \
                    if isinstance(service.get("depends_on"), dict) else []:
                wanted = (condition or {}).get("condition")
                target = services.get(dependency)
                report.check(target is not None, f"{label} service {name}: depends on unknown service {dependency}")
                if target is not None and wanted == "service_healthy":
                    report.check("healthcheck" in target,
                                 f"{label}: {name} waits for {dependency} to be healthy, but it has no healthcheck")
                if target is not None and wanted == "service_completed_successfully":
                    report.check(target.get("restart", "no") in ("no", None),
                                 f"{label}: {dependency} is a one-shot dependency of {name} and must not restart")
            for volume in service.get("volumes") or []:
                source = str(volume).split(":")[0] if not isinstance(volume, dict) else volume.get("source", "")
                if source.startswith("./"):
                    report.check((ROOT / source).exists(), f"{label} service {name}: mounts missing {source}")

    for name in APP_SERVICES:
        report.check(name in base, f"docker-compose.yml: service {name} is missing")
    def strings(value):
        if isinstance(value, dict):
            for key, item in value.items():
                yield str(key)
                yield from strings(item)
        elif isinstance(value, list):
            for item in value:
                yield from strings(item)
        elif value is not None:
            yield str(value)

    interpolated = set()
    for path in compose_files:
        for text in strings(yaml.safe_load(read(path))):
            interpolated |= set(re.findall(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)", text))
    for variable in sorted(interpolated):
        if variable in settings or variable in ANNOUNCED_SETTINGS:
            check_setting(variable, "compose ${...}")
        else:
            report.check(f"`{variable}`" in deployment_doc,
                         f"compose interpolates ${{{variable}}}, which docs/deployment.md does not document")

    for service, (port, port_setting) in expected.items():
        definition = base.get(service, {})
        env = env_items(definition.get("environment"))
        report.check(env.get(port_setting) == str(port),
                     f"docker-compose.yml {service}: {port_setting}={env.get(port_setting)}, expected {port}")
        hc_port, hc_path = healthcheck_target((definition.get("healthcheck") or {}).get("test"))
        report.check((hc_port, hc_path) == (port, "/healthz"),
                     f"docker-compose.yml {service}: healthcheck probes {hc_port}{hc_path}, expected {port}/healthz")
        image = str(definition.get("image", ""))
        wanted_image = GATEWAY_IMAGE if service == "gateway" else WORKER_IMAGE
        report.check(f"/{wanted_image}:${{MEDIAVAULT_TAG" in image,
                     f"docker-compose.yml {service}: image {image!r} should be "
                     f".../{wanted_image}:${{MEDIAVAULT_TAG...}}")
        build = dev.get(service, {}).get("build") or {}
        report.check(build.get("dockerfile") == APP_SERVICES[service],
                     f"docker-compose.dev.yml {service}: builds {build.get('dockerfile')}, "
                     f"expected {APP_SERVICES[service]}")
    report.check(gateway_port in container_ports(base.get("gateway", {}).get("ports")),
                 f"docker-compose.yml gateway: port {gateway_port} is not published")

    # --- Kubernetes ------------------------------------------------------------------------------------------
    k8s = k8s_documents()
    config = next((d for d in k8s.get("configmap.yaml", []) if d.get("kind") == "ConfigMap"), {})
    secret = next((d for d in k8s.get("secret.example.yaml", []) if d.get("kind") == "Secret"), {})
    for name in (config.get("data") or {}):
        check_setting(name, "infra/k8s/configmap.yaml")
    for name in (secret.get("stringData") or {}):
        check_setting(name, "infra/k8s/secret.example.yaml")
    config_data = config.get("data") or {}
    kustomization = (k8s.get("kustomization.yaml") or [{}])[0]
    resources = set(kustomization.get("resources") or [])
    report.check("secret.example.yaml" not in resources,
                 "infra/k8s/kustomization.yaml must not deploy secret.example.yaml (placeholder values)")
    for file in sorted(k8s):
        if file not in ("kustomization.yaml", "secret.example.yaml"):
            report.check(file in resources, f"infra/k8s/kustomization.yaml does not list {file}")
    image_names = {str(entry.get("name", "")).rsplit("/", 1)[-1] for entry in kustomization.get("images") or []}
    report.check({GATEWAY_IMAGE, WORKER_IMAGE} <= image_names,
                 f"infra/k8s/kustomization.yaml images should cover {GATEWAY_IMAGE} and {WORKER_IMAGE}")

    workloads = {}
    for file, documents in k8s.items():
        for doc in documents:
            if doc.get("kind") in ("Deployment", "Job"):
                spec = doc["spec"]["template"]["spec"]
                for container in spec.get("containers", []):
                    for entry in container.get("env") or []:
                        check_setting(entry["name"], f"infra/k8s/{file} env")
                    workloads[(file, container["name"])] = (doc, container, spec)
                security = spec.get("securityContext") or {}
                report.check(security.get("runAsNonRoot") is True, f"infra/k8s/{file}: runAsNonRoot must be true")

    def k8s_container(file):
        matches = [value for (f, _), value in workloads.items() if f == file]
        report.check(len(matches) == 1, f"infra/k8s/{file}: expected one container")
        return matches[0] if matches else ({}, {}, {})

    for service, file, ready_path in (("gateway", "gateway-deployment.yaml", "/readyz"),
                                      ("worker", "worker-deployment.yaml", "/healthz")):
        port, port_setting = expected[service]
        doc, container, _ = k8s_container(file)
        ports = {entry.get("containerPort") for entry in container.get("ports", [])}
        report.check(ports == {port}, f"infra/k8s/{file}: containerPort {sorted(ports)}, expected [{port}]")
        for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", ready_path)):
            get = (container.get(probe) or {}).get("httpGet") or {}
            actual = (named_port(container, get.get("port")), get.get("path"))
            report.check(actual == (port, path), f"infra/k8s/{file}: {probe} probes {actual}, expected {(port, path)}")
        annotations = (doc.get("spec", {}).get("template", {}).get("metadata", {}) or {}).get("annotations") or {}
        report.check(annotations.get("prometheus.io/port") == str(port),
                     f"infra/k8s/{file}: prometheus.io/port annotation should be {port}")
        report.check(config_data.get(port_setting) == str(port),
                     f"infra/k8s/configmap.yaml: {port_setting}={config_data.get(port_setting)}, expected {port}")
        image = str(container.get("image", "")).rsplit("/", 1)[-1].split(":")[0]
        wanted_image = GATEWAY_IMAGE if service == "gateway" else WORKER_IMAGE
        report.check(image == wanted_image, f"infra/k8s/{file}: image {image}, expected {wanted_image}")
    if "gateway-deployment.yaml" in k8s:
        deployment = k8s["gateway-deployment.yaml"][0]
        rolling = deployment["spec"].get("strategy", {}).get("rollingUpdate", {})
        report.check(rolling.get("maxUnavailable") == 0, "infra/k8s/gateway-deployment.yaml: maxUnavailable must be 0")
    service_doc = (k8s.get("gateway-service.yaml") or [{}])[0]
    _, gateway_container, _ = k8s_container("gateway-deployment.yaml")
    targets = {named_port(gateway_container, p.get("targetPort")) for p in service_doc.get("spec", {}).get("ports", [])}
    report.check(targets == {gateway_port},
                 f"infra/k8s/gateway-service.yaml: targetPort {targets}, expected {gateway_port}")
    migrate = [container for (file, _), (_, container, _) in workloads.items() if file == "migrate-job.yaml"]
    report.check(bool(migrate) and migrate[0].get("args") == ["migrate"],
                 "infra/k8s/migrate-job.yaml: the container should run `mediavault migrate` (args: [migrate])")

    # --- Encore-style infra configs ------------------------------------------------------------------------
    def env_references(value, found):
        if isinstance(value, dict):
            if set(value) == {"$env"}:
                found.add(value["$env"])
            for item in value.values():
                env_references(item, found)
        elif isinstance(value, list):
            for item in value:
                env_references(item, found)
        return found

    for path in sorted((ROOT / "infra").glob("*.infra.json")):
        relative = path.relative_to(ROOT)
        data = json.loads(path.read_text(encoding="utf-8"))
        for name in sorted(env_references(data, set())):
            check_setting(name, f"{relative} $env")
        topics = [entry.get("topics", {}) for entry in data.get("pubsub", []) if entry.get("type") == "nsq"]
        report.check(any("processing-worker" in (t.get("media-uploaded", {}).get("subscriptions") or {})
                         for t in topics),
                     f"{relative}: pubsub should declare topic media-uploaded with subscription processing-worker")
        if "production" in path.name:
            for key, value in (data.get("secrets") or {}).items():
                report.check(isinstance(value, dict) and "$env" in value,
                             f"{relative}: secret {key} must be an {{\"$env\": ...}} reference")

    # --- Prometheus and Grafana ------------------------------------------------------------------------------
    prometheus = yaml.safe_load(read("infra/prometheus/prometheus.yml"))
    scraped = {}
    for job in prometheus.get("scrape_configs", []):
        for static in job.get("static_configs", []):
            for target in static.get("targets", []):
                scraped[target] = job.get("metrics_path", "/metrics")
    for service, (port, _) in expected.items():
        target = f"{service}:{port}"
        report.check(scraped.get(target) == "/metrics",
                     f"infra/prometheus/prometheus.yml: should scrape {target}/metrics")
    for rule_file in prometheus.get("rule_files", []):
        local = ROOT / "infra/prometheus" / Path(rule_file).name
        report.check(local.exists(),
                     f"infra/prometheus/prometheus.yml: rule file {rule_file} is not in infra/prometheus")
    alerts = yaml.safe_load(read("infra/prometheus/alerts.yml"))
    rules = [rule for group in alerts.get("groups", []) for rule in group.get("rules", [])]
    report.check(all({"alert", "expr", "labels", "annotations"} <= set(rule) for rule in rules) and rules,
                 "infra/prometheus/alerts.yml: every rule needs alert, expr, labels and annotations")

    grafana_mounts = {str(v).split(":")[0]: str(v).split(":")[1] for v in base.get("grafana", {}).get("volumes", [])}
    dashboards_mount = grafana_mounts.get("./infra/grafana/dashboards")
    provider = yaml.safe_load(read("infra/grafana/provisioning/dashboards/mediavault.yaml"))
    paths = {p.get("options", {}).get("path") for p in provider.get("providers", [])}
    report.check(dashboards_mount in paths,
                 f"Grafana dashboard provider path {paths} should be where compose mounts the dashboards "
                 f"({dashboards_mount})")
    for path in sorted((ROOT / "infra/grafana/dashboards").glob("*.json")):
        dashboard = json.loads(path.read_text(encoding="utf-8"))
        report.check(all(dashboard.get(key) for key in ("uid", "title", "schemaVersion", "panels")),
                     f"{path.relative_to(ROOT)}: needs uid, title, schemaVersion and panels")

    # --- Image builds --------------------------------------------------------------------------------------
    workflow = yaml.safe_load(read(".github/workflows/docker-build.yml"))
    matrix = workflow["jobs"]["build"]["strategy"]["matrix"]["include"]
    built = {entry["image"]: entry["dockerfile"] for entry in matrix}
    report.check(built == {GATEWAY_IMAGE: "Dockerfile", WORKER_IMAGE: "Dockerfile.processing"},
                 f".github/workflows/docker-build.yml: matrix builds {built}")

    if pending:
        report.warn(f"{len(pending)} announced settings are used but not in docs/configuration.md yet: "
                    + ", ".join(sorted(pending)))

    summary = f"consistency: {report.checks - len(report.problems)} checks passed, {len(report.problems)} failed"
    if report.warnings:
        summary += f", {len(report.warnings)} warning(s) (--strict fails on them)"
    print(summary)
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
