"""End to end: the real `scms serve` process, keys from `scms api-keys create`."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.databases import fresh_database
from tests.support.factories import STANDARD_MILESTONES, application_body, customer_body

SCMS = str(Path(sys.executable).parent / "scms")


@dataclass
class Server:
    base: str
    env: dict[str, str]

    def create_key(self, role: str) -> dict[str, str]:
        created = subprocess.run(
            [SCMS, "api-keys", "create", "--name", f"e2e {role}", "--role", role],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return {"Authorization": f"Bearer {created.stdout.strip().splitlines()[-1]}"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server(db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("e2e")
    loop = asyncio.new_event_loop()
    manager = fresh_database(db_kind, directory)
    try:
        url = loop.run_until_complete(manager.__aenter__())
    except BaseException:  # a skip too: no PostgreSQL answers
        loop.close()
        raise
    env = {**os.environ, "SCMS_DATABASE_URL": url, "SCMS_PORT": str(_free_port())}
    log_path = directory / "server.log"
    log_file = log_path.open("wb")
    process = subprocess.Popen([SCMS, "serve"], env=env, stdout=log_file, stderr=log_file)
    base = f"http://127.0.0.1:{env['SCMS_PORT']}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, "server did not become ready"
            time.sleep(0.2)
        yield Server(base, env)
    finally:
        process.terminate()
        process.wait(timeout=10)
        log_file.close()
        loop.run_until_complete(manager.__aexit__(None, None, None))
        loop.close()


def test_served_api_accepts_a_cli_created_admin_key(server: Server) -> None:
    admin = server.create_key("admin")
    listed = httpx.get(f"{server.base}/v1/api-keys", headers=admin)
    assert listed.status_code == 200
    assert "e2e admin" in [k["name"] for k in listed.json()["items"]]
    docs = httpx.get(f"{server.base}/docs")
    assert docs.status_code == 200
    assert "swagger-ui-bundle.js" in docs.text


def test_a_contract_goes_from_application_to_active_over_http(server: Server) -> None:
    crm, operator, partner = (server.create_key(r) for r in ("crm", "operator", "partner"))
    with httpx.Client(base_url=server.base, timeout=10) as http:
        customer = http.post("/v1/customers", json=customer_body(), headers=crm).json()
        body = application_body(
            customer["id"],
            plan="complete-advantage",
            license_ids=120,
            options={"soc": True, "reserved_ip": True, "ad_integration": True},
            onboarding_kind="standard",
        )
        contract = http.post("/v1/contracts", json=body, headers=crm).json()
        base = f"/v1/contracts/{contract['id']}"
        assert http.post(f"{base}/accept", json={}, headers=operator).status_code == 200
        started = http.post(
            f"{base}/onboarding/start",
            json={"started_on": "2026-05-20", "performed_by": "partner"},  # Art. 20.3
            headers=operator,
        )
        assert started.status_code == 200
        for key in STANDARD_MILESTONES:
            done = http.post(
                f"{base}/onboarding/milestones/{key}",
                json={"done_on": "2026-06-01"},
                headers=partner,
            )
            assert done.status_code == 200, done.text
        inspected = http.post(
            f"{base}/onboarding/inspections",
            json={
                "inspected_on": "2026-06-10",
                "result": "accepted",
                "certificate_on": "2026-06-12",
            },
            headers=operator,
        )
        assert inspected.status_code == 201
        active = http.post(
            f"{base}/onboarding/complete", json={"completed_on": "2026-06-15"}, headers=operator
        )
        assert active.status_code == 200, active.text
        result = http.get(base, headers=crm).json()
    assert result["status"] == "active"
    assert result["service_start_on"] == "2026-06-15"
    assert result["accepted_on"] == result["received_on"]
    assert result["monthly_charge"] == 501_200  # worked example B
    # Worked example C: terms end on 20 May (2027-05-20 first; the server's clock is real).
    assert result["term"]["end_on"].endswith("-05-20")


def test_the_embedded_worker_carries_out_a_bill_run_asked_for_over_http(server: Server) -> None:
    """Issue 12 §5: `scms serve` alone does the background work (SCMS_EMBEDDED_WORKER on)."""
    operator = server.create_key("operator")
    with httpx.Client(base_url=server.base, timeout=10) as http:
        started = http.post("/v1/billing-runs", json={"month": "2026-06"}, headers=operator)
        assert started.status_code == 202, started.text
        deadline = time.monotonic() + 30
        while True:
            run = http.get(f"/v1/billing-runs/{started.json()['id']}", headers=operator).json()
            if run["status"] not in ("queued", "running"):
                break
            assert time.monotonic() < deadline, run
            time.sleep(0.2)
        assert run["status"] == "finished", run
        metrics = http.get("/metrics").text
        assert 'scms_jobs{state="done"}' in metrics
