"""`CraEvidenceClient`: every endpoint the pipeline uses, as typed synchronous methods."""

import logging
import random
import ssl
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import closing
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, Literal, Self, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from config.api import (
    ApiSettings,
    RateLimitSettings,
    RetrySettings,
    is_loopback,
    safe_url,
    url_credentials_problem,
)
from craflow import __version__, interrupts
from craflow.api.auth import ApiKeyCredentials, Credentials, LoginCredentials, MissingCredentials
from craflow.api.download import Download, filename_from_disposition, write_chunks
from craflow.api.errors import (
    ApiError,
    ConfigurationError,
    ConflictError,
    NotFoundError,
    UnexpectedResponseError,
)
from craflow.api.models import (
    ArtifactUpload,
    Comparison,
    CraStatus,
    IngestResult,
    Product,
    Sbom,
    ScanInfo,
    ScanTrigger,
    Version,
    Vulnerability,
)
from craflow.api.pagination import iterate_pages
from craflow.api.ratelimit import BucketPacer, NoPacing, Pacer
from craflow.api.registry import shared_pacer
from craflow.api.session import ApiSession, Upload, decode_json, translate

logger = logging.getLogger("craflow.api")

M = TypeVar("M", bound=BaseModel)
Destination = Path | BinaryIO


def _parse(model: type[M], payload: object, what: str) -> M:
    if isinstance(payload, Mapping) and set(payload) == {"data"}:
        payload = payload["data"]  # tolerate a {"data": {...}} wrapper
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<body>'}: {err['msg']}"
            for err in exc.errors()[:3]
        )
        raise UnexpectedResponseError(f"cannot read {what}: {problems}") from None


def _verify(settings: ApiSettings) -> ssl.SSLContext | bool:
    if settings.ca_bundle is not None:
        try:
            return ssl.create_default_context(cafile=str(settings.ca_bundle))
        except (OSError, ssl.SSLError) as exc:
            raise ConfigurationError(
                f"cannot use CA bundle {settings.ca_bundle}: {exc.strerror or exc}"
            ) from None
    if not settings.verify_tls:
        logger.warning(
            "TLS verification is OFF (CRAFLOW_VERIFY_TLS=false): do not use in production"
        )
        return False
    return True


def _check_transport_security(settings: ApiSettings) -> None:
    """Refuse credentials in the URL; warn on (or, if required, refuse) plain remote http."""
    problem = url_credentials_problem(settings.url)
    if problem is not None:
        raise ConfigurationError(problem)
    if not settings.url.lower().startswith("http://") or is_loopback(settings.url):
        return
    if settings.require_tls:
        raise ConfigurationError(
            f"refusing plain http to {safe_url(settings.url)} (CRAFLOW_API_REQUIRE_TLS is set): "
            "use https://"
        )
    logger.warning(
        "plain http to %s: the API key and all evidence travel unencrypted; use https:// "
        "(CRAFLOW_API_REQUIRE_TLS=1 refuses this)",
        safe_url(settings.url),
    )


def _default_pacer(
    settings: ApiSettings,
    rates: RateLimitSettings,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    *,
    virtual: bool,
) -> Pacer:
    if not rates.enabled:
        return NoPacing()
    if virtual or not rates.shared:  # injected time cannot share the process's real buckets
        return BucketPacer(rates, clock=clock, sleep=sleep)
    secret = settings.api_key.get_secret_value() if settings.api_key is not None else settings.email
    return shared_pacer(settings.api_base, secret, rates)


def _credentials(settings: ApiSettings, clock: Callable[[], float]) -> Credentials:
    if settings.api_key is not None and settings.api_key.get_secret_value():
        return ApiKeyCredentials(settings.api_key)
    if settings.email and settings.password is not None:
        return LoginCredentials(
            settings.email,
            settings.password,
            clock=clock,
            refresh_margin_seconds=settings.token_refresh_margin_seconds,
        )
    return MissingCredentials()


class CraEvidenceClient:
    """A synchronous client of the CRA Evidence REST API (one connection pool per instance).

    Use it as a context manager, or call `close()`. `clock` (Unix seconds), `sleep` and
    `jitter` are injectable so tests run in virtual time; `pacer` replaces the built-in
    token buckets (e.g. with Prefect global concurrency limits).
    """

    def __init__(
        self,
        settings: ApiSettings | None = None,
        *,
        retry: RetrySettings | None = None,
        rates: RateLimitSettings | None = None,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
        jitter: Callable[[], float] | None = None,
        pacer: Pacer | None = None,
    ) -> None:
        self.settings = settings if settings is not None else ApiSettings()
        self.retry = retry if retry is not None else RetrySettings()
        self.rates = rates if rates is not None else RateLimitSettings()
        _check_transport_security(self.settings)
        virtual = clock is not None or sleep is not None
        clock = clock or time.time
        sleep = sleep or interrupts.sleep
        if pacer is None:
            pacer = _default_pacer(self.settings, self.rates, clock, sleep, virtual=virtual)
        self.pacer = pacer
        self._credentials = _credentials(self.settings, clock)
        s = self.settings
        self._http = httpx.Client(
            base_url=s.api_base,
            timeout=httpx.Timeout(
                connect=s.connect_timeout,
                read=s.read_timeout,
                write=s.write_timeout,
                pool=s.pool_timeout,
            ),
            limits=httpx.Limits(max_connections=s.max_connections),
            verify=_verify(s),
            transport=transport,
            headers={"User-Agent": f"craflow/{__version__}"},
            follow_redirects=False,
        )
        self._session = ApiSession(
            self._http,
            settings=s,
            retry=self.retry,
            credentials=self._credentials,
            pacer=pacer,
            clock=clock,
            sleep=sleep,
            jitter=jitter or random.random,
        )

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"CraEvidenceClient(url={self.settings.api_base!r}, "
            f"auth={self._credentials.describe()!r})"
        )

    # -- products ----------------------------------------------------------------------------

    def list_products(self, *, slug: str | None = None, per_page: int = 50) -> Iterator[Product]:
        extra = {"slug": slug} if slug is not None else {}
        return self._paginate("/products", Product, per_page=per_page, extra=extra)

    def get_product(self, product_id: str) -> Product:
        return _parse(Product, self._session.get_json(f"/products/{product_id}"), "product")

    def create_product(
        self,
        name: str,
        *,
        category: str = "default",
        slug: str | None = None,
        target_markets: Sequence[str] | None = None,
    ) -> Product:
        body: dict[str, Any] = {"name": name, "category": category}
        if slug is not None:
            body["slug"] = slug
        if target_markets is not None:
            body["target_markets"] = list(target_markets)
        return _parse(Product, self._json("POST", "/products", body), "product")

    def find_product(self, slug: str) -> Product | None:
        for product in self.list_products(slug=slug):
            if product.slug == slug:
                return product
        return None

    def find_or_create_product(
        self, slug: str, *, name: str | None = None, category: str = "default"
    ) -> Product:
        found = self.find_product(slug)
        if found is not None:
            return found
        try:
            return self.create_product(name or slug, category=category, slug=slug)
        except ConflictError:
            again = self.find_product(slug)
            if again is None:
                raise
            return again

    # -- versions ----------------------------------------------------------------------------

    def list_versions(self, product_id: str, *, per_page: int = 50) -> Iterator[Version]:
        return self._paginate(f"/products/{product_id}/versions", Version, per_page=per_page)

    def create_version(
        self, product_id: str, version_number: str, *, release_state: str | None = None
    ) -> Version:
        body: dict[str, Any] = {"product_id": product_id, "version_number": version_number}
        if release_state is not None:
            body["release_state"] = release_state
        return _parse(Version, self._json("POST", "/versions", body), "version")

    def find_version(self, product_id: str, version_number: str) -> Version | None:
        for version in self.list_versions(product_id):
            if version.version_number == version_number:
                return version
        return None

    def find_or_create_version(self, product_id: str, version_number: str) -> Version:
        found = self.find_version(product_id, version_number)
        if found is not None:
            return found
        try:
            return self.create_version(product_id, version_number)
        except ConflictError:
            again = self.find_version(product_id, version_number)
            if again is None:
                raise
            return again

    def set_release_state(
        self,
        version_id: str,
        state: str,
        *,
        superseded_by: str | None = None,
        release_anyway: bool = False,
        release_anyway_reason: str | None = None,
    ) -> Version:
        body: dict[str, Any] = {"state": state}
        if superseded_by is not None:
            body["superseded_by"] = superseded_by
        if release_anyway:
            body["release_anyway"] = True
        if release_anyway_reason is not None:
            body["release_anyway_reason"] = release_anyway_reason
        payload = self._json(
            "PATCH", f"/versions/{version_id}/release-state", body, repeatable=True
        )
        return _parse(Version, payload, "version")

    # -- SBOMs and scans ---------------------------------------------------------------------

    def ingest_sbom(
        self, version_id: str, path: Path, *, auto_scan: bool = True, filename: str | None = None
    ) -> IngestResult:
        """Upload an SBOM file, streamed from disk (re-opened for each attempt)."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"SBOM file not found: {path}")
        upload = Upload(
            path=path,
            filename=filename or path.name,
            fields={"version_id": version_id, "auto_scan": "true" if auto_scan else "false"},
        )
        response = self._session.request("POST", "/sboms/ingest", upload=upload)
        payload = decode_json(response, "/sboms/ingest")
        if not isinstance(payload, Mapping):
            raise UnexpectedResponseError("cannot read the ingest answer: not a JSON object")
        sbom_part = payload.get("sbom")
        sbom = _parse(Sbom, sbom_part if isinstance(sbom_part, Mapping) else payload, "SBOM")
        scan_part = payload.get("scan")
        scan = _parse(ScanInfo, scan_part, "scan") if isinstance(scan_part, Mapping) else None
        return IngestResult(sbom=sbom, scan=scan, request_id=response.headers.get("x-request-id"))

    def list_sboms(self, version_id: str, *, per_page: int = 50) -> Iterator[Sbom]:
        return self._paginate(f"/versions/{version_id}/sboms", Sbom, per_page=per_page)

    def download_sbom(self, sbom_id: str, dest: Destination) -> Download:
        return self._download(f"/sboms/{sbom_id}/download", dest)

    def trigger_scan(self, version_id: str) -> ScanTrigger:
        payload = self._json("POST", f"/versions/{version_id}/scan", None)
        return _parse(ScanTrigger, payload, "scan trigger")

    def get_cra_status(self, version_id: str) -> CraStatus:
        payload = self._session.get_json(f"/versions/{version_id}/cra-status")
        return _parse(CraStatus, payload, "CRA status")

    def compare_versions(self, base_version_id: str, target_version_id: str) -> Comparison:
        body = {"version_a_id": base_version_id, "version_b_id": target_version_id}
        return _parse(Comparison, self._json("POST", "/comparison/versions", body), "comparison")

    # -- vulnerabilities ---------------------------------------------------------------------

    def list_vulnerabilities(
        self,
        *,
        version_id: str | None = None,
        product_id: str | None = None,
        severity: str | None = None,
        status: str | None = None,
        kev: bool | None = None,
        per_page: int = 50,
    ) -> Iterator[Vulnerability]:
        filters = {
            "version_id": version_id,
            "product_id": product_id,
            "severity": severity,
            "status": status,
            "kev": None if kev is None else ("true" if kev else "false"),
        }
        extra = {key: value for key, value in filters.items() if value is not None}
        return self._paginate("/vulnerabilities", Vulnerability, per_page=per_page, extra=extra)

    def get_vulnerability(self, vuln_id: str) -> Vulnerability:
        payload = self._session.get_json(f"/vulnerabilities/{vuln_id}")
        return _parse(Vulnerability, payload, "vulnerability")

    # -- exports -----------------------------------------------------------------------------

    def export_technical_file(self, version_id: str, dest: Destination) -> Download:
        """The technical-file ZIP; falls back to the documentation's path on 404/405."""
        try:
            return self._download(f"/versions/{version_id}/export", dest)
        except ApiError as exc:
            if not isinstance(exc, NotFoundError) and exc.status != 405:
                raise
            logger.info("export path answered %s: trying the technical-file path", exc.status)
        return self._download(f"/exports/versions/{version_id}/technical-file", dest)

    def compliance_report(
        self, sbom_id: str, dest: Destination, *, format: Literal["pdf", "html"] = "pdf"
    ) -> Download:
        return self._download(
            f"/exports/sboms/{sbom_id}/compliance-report", dest, params={"format": format}
        )

    # -- triage and VEX (API-CONTRACT.md section 7) -------------------------------------------

    def triage_vulnerability(
        self,
        vuln_id: str,
        *,
        status: str | None = None,
        notes: str | None = None,
        justification: str | None = None,
    ) -> Vulnerability:
        """PATCH a finding's status, notes and (OpenVEX) justification; None leaves a field."""
        body = {
            key: value
            for key, value in (
                ("status", status),
                ("notes", notes),
                ("justification", justification),
            )
            if value is not None
        }
        payload = self._json("PATCH", f"/vulnerabilities/{vuln_id}", body, repeatable=True)
        return _parse(Vulnerability, payload, "vulnerability")

    def upload_vex(
        self, product: str, version: str, path: Path, *, filename: str | None = None
    ) -> ArtifactUpload:
        """Upload a VEX document to an existing version (`/ci/upload artifact_type=vex`)."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"VEX file not found: {path}")
        upload = Upload(
            path=path,
            filename=filename or path.name,
            fields={"product": product, "version": version, "artifact_type": "vex"},
        )
        response = self._session.request("POST", "/ci/upload", upload=upload)
        return _parse(ArtifactUpload, decode_json(response, "/ci/upload"), "VEX upload")

    # -- plumbing ----------------------------------------------------------------------------

    def _json(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None,
        *,
        repeatable: bool = False,
    ) -> object:
        response = self._session.request(method, path, json_body=body, repeatable=repeatable)
        return decode_json(response, path)

    def _paginate(
        self,
        path: str,
        model: type[M],
        *,
        per_page: int,
        extra: Mapping[str, str] | None = None,
    ) -> Iterator[M]:
        if not 1 <= per_page <= 100:
            raise ValueError(f"per_page must be between 1 and 100, got {per_page}")

        def fetch(page: int) -> object:
            params: dict[str, str | int] = {**(extra or {}), "page": page, "per_page": per_page}
            return self._session.get_json(path, params)

        return iterate_pages(
            fetch,
            lambda raw: _parse(model, raw, path),
            per_page=per_page,
            key=lambda item: str(getattr(item, "id", id(item))),
        )

    def _download(
        self, path: str, dest: Destination, params: Mapping[str, str] | None = None
    ) -> Download:
        response = self._session.request("GET", path, params=params, stream=True)
        with closing(response):
            try:
                return write_chunks(
                    response.iter_bytes(self.settings.download_chunk_bytes),
                    dest,
                    filename=filename_from_disposition(response.headers.get("content-disposition")),
                    content_type=response.headers.get("content-type", "application/octet-stream"),
                    request_id=response.headers.get("x-request-id"),
                )
            except httpx.TransportError as exc:
                raise translate(exc, "GET", path) from exc
