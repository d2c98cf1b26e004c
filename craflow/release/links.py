"""Links and plain text for markdown artifacts: advisory pages, evidence objects, code spans.

Pure functions (no Prefect, no network): the artifacts module and the report call them.
"""

import re
from urllib.parse import quote

_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$", re.IGNORECASE)
_GHSA = re.compile(r"^GHSA(-[23456789cfghjmpqrvwx]{4}){3}$", re.IGNORECASE)
#: ids OSV publishes itself (PYSEC, GO, RUSTSEC, OSV, …): `PREFIX-rest`
_OSV = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Za-z0-9._:]+)+$")


def advisory_url(advisory_id: str) -> str | None:
    """The public page of an advisory id: NVD for CVE, GitHub for GHSA, OSV for the rest.

    None for text that is not an advisory id (it is then shown as plain text).
    """
    text = advisory_id.strip()
    if _CVE.match(text):
        return f"https://nvd.nist.gov/vuln/detail/{text.upper()}"
    if _GHSA.match(text):
        return f"https://github.com/advisories/{text}"
    if _OSV.match(text):
        return f"https://osv.dev/vulnerability/{quote(text, safe='-._:')}"
    return None


def code(text: str) -> str:
    """*text* as a markdown code span: never auto-linked (`urllib3@1.23` is not an e-mail)."""
    if not text:
        return "—"
    fence = "``" if "`" in text else "`"
    return f"{fence}{text.replace('|', '/')}{fence}"


def advisory_md(advisory_id: str) -> str:
    """A markdown link to the advisory's page, or the id as a code span when it has none."""
    url = advisory_url(advisory_id)
    return f"[{advisory_id}]({url})" if url else code(advisory_id)


def split_s3(uri: str) -> tuple[str, str] | None:
    """(bucket, key) of an `s3://bucket/key` URI, else None."""
    if not uri.startswith("s3://"):
        return None
    bucket, _, key = uri[len("s3://") :].partition("/")
    return (bucket, key) if bucket else None


def console_url(uri: str, template: str) -> str | None:
    """The storage console's HTTPS page of an `s3://` object from *template*
    (`{bucket}`, `{key}`, `{key_quoted}`), or None for a URI that is not on S3."""
    parts = split_s3(uri)
    if parts is None:
        return None
    bucket, key = parts
    return template.format(bucket=quote(bucket), key=key, key_quoted=quote(key, safe=""))
