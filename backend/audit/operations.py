"""The audit operations whose work is not one runner function already, in the shape the operations table calls
them (the request first, then the audit store): an upload kept, a verdict overridden, a report rendered."""
from __future__ import annotations

from typing import TYPE_CHECKING

from backend.audit.datasets import keep_upload
from backend.audit.report import render_report
from backend.audit.runner import summarize_audit
from backend.schemas.audit import AuditDatasetUpload, AuditItem, AuditOverride, AuditRequest, UploadedAuditDataset

if TYPE_CHECKING:
    from backend.audit.store import AuditStore


def upload_dataset(upload: AuditDatasetUpload) -> UploadedAuditDataset:
    """Keep an uploaded dataset file after checking it as an audit would (see keep_upload)."""
    return keep_upload(upload.filename, upload.data)


def set_override(override: AuditOverride, store: AuditStore) -> AuditItem:
    """Replace (or clear) a person's verdict on one finished item; ItemNotFoundError when there is no such item."""
    return store.set_override(override.audit_id, override.index, override.verdict)


def audit_report(request: AuditRequest, store: AuditStore) -> str:
    """The offline HTML report (figures, metrics, items, settings) of what the audit has finished so far."""
    return render_report(summarize_audit(request, store))
