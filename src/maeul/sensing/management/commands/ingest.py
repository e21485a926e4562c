from __future__ import annotations

import gc
import signal
import threading
from typing import Any

from django.conf import settings
from django.core.checks import Tags
from django.core.management.base import BaseCommand, CommandError, CommandParser

from maeul.sensing.ingest import BrokerConfig, Worker, default_options
from maeul.sites.models import Site


def _partition(text: str) -> tuple[int, int]:
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError as exc:
        raise CommandError(f"--partition takes i/N, e.g. 0/2; got {text!r}") from exc
    if count < 1 or not 0 <= index < count:
        raise CommandError(f"--partition {text}: i must be in 0..N-1")
    return index, count


class Command(BaseCommand):
    help = (
        "Subscribe to the MQTT broker and store device messages (Zigbee2MQTT, Tasmota, generic JSON); hand committed "
        "readings to detection. A message is acknowledged only after it is committed; safe to kill and restart."
    )
    # Only the model checks: the URL and template checks import every view, API router and template tag, and with
    # them screening's numpy/pyarrow/scikit-learn/pandas/ibis, about 230 MB this process never uses.
    requires_system_checks = [Tags.models]

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--site", help="Site slug (default: the only site)")
        parser.add_argument("--broker", help="mqtt://user:pass@host:1883 or mqtts://… (default: MAEUL_MQTT_URL)")
        parser.add_argument("--tls-ca", help="CA bundle for mqtts:// (default: MAEUL_MQTT_CA, else the system's)")
        parser.add_argument("--client-id", help="Stable MQTT client id: the persistent session's name")
        parser.add_argument("--shared", metavar="GROUP", help="Share the load with other workers ($share/GROUP/…)")
        parser.add_argument("--partition", metavar="i/N", help="Detect for households with id %% N == i (default 0/1)")
        parser.add_argument("--zigbee2mqtt-base", help="Zigbee2MQTT base topic (default: zigbee2mqtt)")
        parser.add_argument("--topic", action="append", dest="topics", help="Subscribe to this instead (repeatable)")

    def handle(self, *args: Any, **options: Any) -> None:
        site = self._site(options["site"])
        partition = _partition(options["partition"]) if options["partition"] else None
        worker_options = default_options(
            site.pk,
            site.slug,
            client_id=options["client_id"],
            shared_group=options["shared"],
            partition=partition,
            zigbee2mqtt_base=options["zigbee2mqtt_base"],
            topics=options["topics"],
        )
        if worker_options.partitions > 1 and not worker_options.shared_group:
            raise CommandError("several partitions need --shared GROUP, or each worker would store everything")
        try:
            broker = BrokerConfig.from_url(
                options["broker"] or settings.MAEUL_MQTT_URL,
                settings.MAEUL_MQTT_USERNAME,
                settings.MAEUL_MQTT_PASSWORD,
                options["tls_ca"] or settings.MAEUL_MQTT_CA,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        self.stdout.write(
            f"Ingesting for {site.slug} from {broker.host}:{broker.port} as {worker_options.client_id} "
            f"(partition {worker_options.partition}/{worker_options.partitions})"
        )
        worker = Worker(broker, worker_options)
        # What start-up built (Django, the detectors, the device cache) lives as long as the process: out of the
        # collector's sight, its full passes walk only what messages create.
        gc.freeze()
        worker.run(stop)

    def _site(self, slug: str | None) -> Site:
        if slug:
            site = Site.objects.filter(slug=slug).first()
            if site is None:
                raise CommandError(f"no site {slug!r}")
            return site
        sites = list(Site.objects.all()[:2])
        if len(sites) != 1:
            raise CommandError("give --site SLUG (there is not exactly one site)")
        return sites[0]
