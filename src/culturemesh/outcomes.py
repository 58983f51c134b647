"""How an ingest ends: the events it emits and the sealed reports they point to (a rejected or
quarantining upload, a version that failed its quality rules, a published version)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

from culturemesh import events, keys, versions
from culturemesh.contract import Violation
from culturemesh.descriptor import Descriptor
from culturemesh.envelope import Envelope
from culturemesh.kms import Kms
from culturemesh.quality import QualityFailure
from culturemesh.sealing import seal_bytes
from culturemesh.store import ObjectStore
from culturemesh.uploads import MAX_REPORTED, REPORTS, Upload, Written, report_context

if TYPE_CHECKING:
    from culturemesh.catalog.registry import Registry


class Outcomes:
    def __init__(
        self, descriptor: Descriptor, store: ObjectStore, kms: Kms, principal: str, registry: Registry | None = None
    ) -> None:
        self.descriptor, self.store, self.kms, self.principal = descriptor, store, kms, principal
        self.registry = registry  # where published versions are registered (None: `culturemesh run`, no catalog)

    def _store_report(self, key: str, report: Mapping[str, object]) -> str:
        """Seal a report under the product's landing key (the provider may read it) and store it."""
        body = json.dumps(report, indent=2).encode()
        context = report_context(self.descriptor, key)
        sealed = seal_bytes(self.kms, keys.landing_key(self.descriptor), context, self.principal, body)
        self.store.put(REPORTS, key, sealed, content_type="application/vnd.culturemesh.sealed", notify=False)
        return self.store.uri(REPORTS, key)

    def report(
        self, upload: Upload, status: str, message: str, violations: list[Violation], total: int, count: int
    ) -> str:
        report = {
            "dataproduct": self.descriptor.qualified_name,
            "inputport": upload.port.port,
            "object": upload.describe(),
            "status": status,
            "message": message,
            "policy": upload.port.invalid_rows,
            "rows": {
                "total": total,
                "rejected": count if status == "rejected" else len({v.row for v in violations}),
            },
            "violationCount": count,
            "violations": [v.as_dict() for v in violations[:MAX_REPORTED]],
            "created": events.now_iso(),
        }
        key = f"{self.descriptor.qualified_name}/{upload.port.port}/{upload.filename}.{upload.object.etag[:12]}.json"
        return self._store_report(key, report)

    def reject(self, upload: Upload, message: str, violations: list[Violation], total: int, count: int = 0) -> Envelope:
        uri = self.report(upload, "rejected", message, violations, total, count)
        data = {
            "dataproduct": self.descriptor.qualified_name,
            "inputport": upload.port.port,
            "object": upload.describe(),
            "reason": message,
            "violationCount": count,
            "violations": [v.as_dict() for v in violations[:20]],
            "report": uri,
        }
        return events.upload_rejected(self.descriptor.qualified_name, data, uri)

    def accept(self, upload: Upload, written: Written) -> Envelope:
        uri = ""
        if written.violations:
            uri = self.report(
                upload,
                "accepted",
                "invalid rows quarantined",
                written.violations,
                written.total,
                written.violation_count,
            )
        data = {
            "dataproduct": self.descriptor.qualified_name,
            "inputport": upload.port.port,
            "object": upload.describe(),
            "rows": {
                "total": written.total,
                "accepted": written.valid,
                "quarantined": written.total - written.valid,
            },
            **({"report": uri} if uri else {}),
        }
        return events.upload_accepted(self.descriptor.qualified_name, data, uri)

    def failed(self, upload: Upload, failures: Mapping[str, list[QualityFailure]]) -> Envelope:
        """Quality rules failed: nothing is published; the report says which rule failed where."""
        report = {
            "dataproduct": self.descriptor.qualified_name,
            "status": "failed",
            "object": upload.describe(),
            "quality": {port: [f.as_dict() for f in found] for port, found in failures.items()},
            "created": events.now_iso(),
        }
        key = f"{self.descriptor.qualified_name}/quality/{upload.filename}.{upload.object.etag[:12]}.json"
        uri = self._store_report(key, report)
        port = next(iter(failures))
        reason = "; ".join(
            f"{p}: {f.rule} on {', '.join(f.columns)}: {f.message}" for p, found in failures.items() for f in found
        )
        data = {
            "dataproduct": self.descriptor.qualified_name,
            "outputport": port,
            "reason": reason,
            "input": upload.describe(),
            "report": uri,
        }
        return events.failed(
            self.descriptor.qualified_name, upload.object.key, data, (upload.object.key, upload.object.etag)
        )

    def published(self, manifest: versions.Manifest) -> Envelope:
        uri = self.store.uri(
            versions.PRODUCTS, versions.manifest_key(manifest.dataproduct, manifest.outputport, manifest.version)
        )
        if self.registry is not None:  # registered before its event exists; a redelivery changes nothing
            from culturemesh.catalog.sync import register_published

            register_published(self.registry, self.descriptor, manifest, uri)
        data = {
            "dataproduct": manifest.dataproduct,
            "outputport": manifest.outputport,
            "version": manifest.version,
            "manifest": uri,
            "rows": manifest.rows,
            "bytes": manifest.bytes,
            "format": manifest.format,
            "created": manifest.created,
        }
        return events.published(manifest.dataproduct, manifest.outputport, manifest.version, uri, data)
