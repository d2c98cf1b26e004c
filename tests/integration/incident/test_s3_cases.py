"""Cases in an S3 archive with Object Lock: every event is its own locked object."""

from typing import TYPE_CHECKING

import pytest
from botocore.exceptions import ClientError

from config.evidence import EvidenceSettings
from craflow.evidence.open import store_for
from craflow.incident import CaseBook, CaseOpening, CaseStore, Stage

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

pytestmark = pytest.mark.integration


def test_case_history_is_locked_append_only_evidence(
    s3_client: "S3Client", locked_bucket: str
) -> None:
    settings = EvidenceSettings(retain_years=10, retention_mode="COMPLIANCE")
    store, prefix = store_for(f"s3://{locked_bucket}/evidence", settings, s3_client=s3_client)
    book = CaseBook(CaseStore(store, prefix))
    case_id = book.open(
        CaseOpening("widget", "CVE-2024-3094", affected_versions=("1.0",))
    ).case.case_id
    assert not book.open(CaseOpening("widget", "CVE-2024-3094")).created
    book.submitted(case_id, Stage.EARLY_WARNING, "EW-1")

    listed = s3_client.list_objects_v2(Bucket=locked_bucket, Prefix="evidence/incidents/")
    keys = [o["Key"] for o in listed.get("Contents", [])]
    assert keys == [
        f"evidence/incidents/{case_id}/000000-opened.json",
        f"evidence/incidents/{case_id}/000001-submitted.json",
    ]
    head = s3_client.head_object(Bucket=locked_bucket, Key=keys[0])
    assert head["ObjectLockMode"] == "COMPLIANCE"
    with pytest.raises(ClientError, match="AccessDenied"):
        s3_client.delete_object(Bucket=locked_bucket, Key=keys[0], VersionId=head["VersionId"])
    reread = CaseBook(CaseStore(store, prefix)).get(case_id)
    assert reread.submissions[Stage.EARLY_WARNING].reference == "EW-1"
