"""The deploy/ files: what can be checked without Docker or Kubernetes is checked here."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import yaml

from tests.support.postgres import missing_system_package

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def test_kubernetes_manifests_hold_every_kind_the_deployment_needs() -> None:
    kinds = set()
    for path in (DEPLOY / "k8s").glob("*.yaml"):
        for document in yaml.safe_load_all(path.read_text()):
            assert {"apiVersion", "kind", "metadata"} <= document.keys(), path
            kinds.add(document["kind"])
    expected = {"Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler"}
    assert expected | {"ConfigMap", "Secret"} <= kinds


def test_deployment_drains_before_it_is_killed() -> None:
    deployment = yaml.safe_load((DEPLOY / "k8s" / "deployment.yaml").read_text())
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    pre_stop_s = int(container["lifecycle"]["preStop"]["exec"]["command"][-1])
    assert pod["terminationGracePeriodSeconds"] > pre_stop_s + 30  # 30 s: the bridge's drain


def test_compose_runs_two_bridges_postgres_and_nginx() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"bridge-1", "bridge-2", "postgres", "nginx"} <= services.keys()
    ids = {services[name]["environment"]["BRIDGE_INSTANCE_ID"] for name in ("bridge-1", "bridge-2")}
    assert len(ids) == 2


def test_production_nginx_config_passes_nginx_t(tmp_path: Path) -> None:
    nginx = shutil.which("nginx", path=f"{os.environ.get('PATH', '')}:/usr/sbin")
    if nginx is None:
        missing_system_package("nginx not found")
        return
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=bridge.example.com", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    # The compose service names resolve only inside Docker's network; here, loopback.
    site = (DEPLOY / "nginx" / "bridge.conf").read_text()
    site = re.sub(r"server bridge-\d:8080", "server 127.0.0.1:8080", site)
    site = site.replace("/etc/nginx/tls/fullchain.pem", str(cert))
    site = site.replace("/etc/nginx/tls/privkey.pem", str(key))
    site = site.replace(
        "/etc/nginx/bridge-locations.conf", str(DEPLOY / "nginx" / "bridge-locations.conf")
    )
    (tmp_path / "bridge.conf").write_text(site)
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{ access_log off; include {tmp_path}/bridge.conf; }}\n"
    )
    checked = subprocess.run([nginx, "-t", "-c", str(main)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    assert "syntax is ok" in checked.stderr
    # A flood from one address is held at nginx: requests and connections limited per client.
    assert "limit_req_zone $binary_remote_addr" in site
    assert "limit_conn_zone $binary_remote_addr" in site
    assert re.search(r"^\s+limit_req zone=bridge_requests ", site, re.MULTILINE)
    assert re.search(r"^\s+limit_conn bridge_connections \d+;", site, re.MULTILINE)
