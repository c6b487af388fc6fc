"""Prometheus metrics: request counts and latencies per route, served at /metrics."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

from taxicrm.auth import Role, allow


class HttpMetrics:
    """The service's HTTP metrics, in a registry of their own so tests can build many apps."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "taxicrm_http_requests", "HTTP requests handled.", ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "taxicrm_http_request_duration_seconds", "Time to handle an HTTP request.", ["method", "route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )

    def observe(self, request: web.Request, status: int, seconds: float) -> None:
        """Count one request and its duration."""
        # Label by route template (/api/rides/{id}), never the raw path: ids would explode the series.
        resource = request.match_info.route.resource
        route = resource.canonical if resource is not None else "unmatched"
        self.requests.labels(request.method, route, str(status)).inc()
        self.latency.labels(request.method, route).observe(seconds)


# One per process: metrics describe the process, whichever app objects it built.
METRICS = HttpMetrics()


@allow(Role.ADMIN, Role.METRICS)
async def metrics_view(request: web.Request) -> web.Response:
    """Serve the metrics in Prometheus text format."""
    body = generate_latest(METRICS.registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

