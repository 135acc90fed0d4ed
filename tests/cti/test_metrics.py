"""/metrics: counters fed by a recorded call, the Prometheus text, who may scrape; JSON logs."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import httpx

from cti.json_logs import JsonFormatter
from cti.loop_lag import LoopWatch
from cti.metrics import Gauges, Histogram, Metrics, render
from cti.replay import read_server_chunks, recorded_messages
from cti.service import CallService
from cti.web.app import create_app
from cti.web.serve import serving

CAPTURES = Path(__file__).resolve().parents[3] / "shared" / "ami-captures"


def _feed(service: CallService, name: str, until: float = float("inf")) -> None:
    for t, message in recorded_messages(read_server_chunks(CAPTURES / name)):
        if t > until:
            break
        service.on_ami_event(message, t)


def _service(clock: float) -> tuple[CallService, Metrics]:
    # The recording's times are seconds from its start: a clock 2 ms later gives a 2 ms lag.
    metrics = Metrics(ami_reconnects=lambda: 3, clock=lambda: clock)
    service = CallService()
    service.add_listener(metrics.on_event)
    service.on_handled = metrics.observe_received
    return service, metrics


def _samples(text: str) -> dict[str, float]:
    pairs = (line.rsplit(" ", 1) for line in text.splitlines() if not line.startswith("#"))
    return {name: float(value) for name, value in pairs}


async def test_an_answered_call_and_a_waiting_one_show_in_the_metrics() -> None:
    service, metrics = _service(clock=0.0)
    _feed(service, "04-inbound-answered.jsonl")
    _feed(service, "06-caller-abandons-while-waiting.jsonl", until=3.0)
    metrics.clock = lambda: 1e9  # the lag below is what it says, not the recording's clock
    metrics.lag = Histogram()
    metrics.observe_received(1e9 - 0.002)
    async with serving(create_app(service, metrics=metrics)) as port:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = _samples(response.text)
    waiting = [k for k in samples if k.startswith("cti_calls_waiting{")]
    assert len(waiting) == 1 and samples[waiting[0]] == 1
    assert samples["cti_offers_total"] == 1 and samples["cti_answers_total"] == 1
    assert samples["cti_ami_reconnects_total"] == 3
    assert samples["cti_db_writes_fenced_total"] == 0  # one process, no lease: never fenced
    assert samples["cti_websocket_clients"] == 0
    assert samples['cti_event_lag_seconds_bucket{le="0.001"}'] == 0
    assert samples['cti_event_lag_seconds_bucket{le="0.0025"}'] == 1
    assert samples['cti_event_lag_seconds_bucket{le="+Inf"}'] == 1
    assert samples["cti_event_lag_seconds_count"] == 1
    assert "# TYPE cti_event_lag_seconds histogram" in response.text


async def test_with_a_token_only_its_bearer_reads_the_metrics() -> None:
    app = create_app(CallService(), metrics_token="s3cret")
    async with serving(app) as port:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            assert (await client.get("/metrics")).status_code == 401
            wrong = {"Authorization": "Bearer non"}
            assert (await client.get("/metrics", headers=wrong)).status_code == 401
            right = {"Authorization": "Bearer s3cret"}
            assert (await client.get("/metrics", headers=right)).status_code == 200


async def test_without_a_token_only_this_machine_reads_the_metrics() -> None:
    app = create_app(CallService())
    remote = httpx.ASGITransport(app=app, client=("192.0.2.10", 40000))
    async with httpx.AsyncClient(transport=remote, base_url="http://cti") as client:
        refused = await client.get("/metrics")
    assert refused.status_code == 403 and "CTI_METRICS_TOKEN" in refused.json()["detail"]
    local = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    async with httpx.AsyncClient(transport=local, base_url="http://cti") as client:
        assert (await client.get("/metrics")).status_code == 200


async def test_lags_of_minutes_are_told_as_minutes() -> None:
    """Under overload cards come minutes late: the histograms say how late (10 minutes at
    most, not "over 5 s"), with the last event's lag and the loop's own."""
    metrics = Metrics(clock=lambda: 1000.0)
    metrics.observe_received(1000.0 - 95.0)  # an event handled 95 s after it came
    watch = LoopWatch(clock=lambda: 0.0)
    watch.observe(asked=10.0, woke=250.0)  # the loop woke a task 4 minutes late
    text = render(metrics, Gauges({}, 0, 0, loop_lag=watch.lag))
    samples = _samples(text)
    assert samples['cti_event_lag_seconds_bucket{le="60.0"}'] == 0
    assert samples['cti_event_lag_seconds_bucket{le="120.0"}'] == 1
    assert samples["cti_event_lag_last_seconds"] == 95
    assert samples['cti_event_loop_lag_seconds_bucket{le="120.0"}'] == 0
    assert samples['cti_event_loop_lag_seconds_bucket{le="300.0"}'] == 1


def test_json_logs_are_one_object_per_line_with_the_call_when_known() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    log = logging.getLogger("cti.test_json_logs")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("offre de %s refusée", "1700000000.42", extra={"call_id": "1700000000.42"})
        try:
            raise ValueError("boum")
        except ValueError:
            log.exception("écouteur en échec")
    finally:
        log.removeHandler(handler)
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["level"] == "WARNING" and first["logger"] == "cti.test_json_logs"
    assert first["message"] == "offre de 1700000000.42 refusée"
    assert first["call_id"] == "1700000000.42" and first["ts"].endswith("+00:00")
    assert "call_id" not in second and "ValueError: boum" in second["exception"]
