"""Reading a server's ``/metrics`` as Prometheus does: with prometheus-client's own
parser, into samples that tests can compare before and after an event."""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families


@dataclass(frozen=True)
class Scrape:
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float]
    families: frozenset[str]  # metric family names, as a PromQL expression names them

    def value(self, name: str, **labels: str) -> float:
        """The sum of the samples named ``name`` whose labels include ``labels``."""
        wanted = set(labels.items())
        return sum(
            value
            for (sample, sample_labels), value in self.samples.items()
            if sample == name and wanted <= sample_labels
        )

    def label_values(self) -> set[str]:
        return {value for _, labels in self.samples for _, value in labels}

    def sample_names(self) -> set[str]:
        return {name for name, _ in self.samples}


def scrape(base_url: str, token: str | None = None) -> Scrape:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.get(f"{base_url}/metrics", headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    families: set[str] = set()
    for family in text_string_to_metric_families(response.text):
        families.add(family.name)
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return Scrape(samples, frozenset(families))


# Each worker adds its request metrics to the shared figures once a second
# (web.observability.tallies); the worker answering a scrape adds its own at once.
REQUEST_METRICS_LAG_SECONDS = 1.5


def settled_scrape(base_url: str, token: str | None = None) -> Scrape:
    """A scrape that includes every worker's requests until now."""
    time.sleep(REQUEST_METRICS_LAG_SECONDS)
    return scrape(base_url, token)
