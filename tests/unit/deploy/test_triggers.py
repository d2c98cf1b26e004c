"""The release-request event: validation, and how Prefect renders it into flow parameters."""

import copy
import datetime
import inspect
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from prefect.server.events.actions import RunDeployment
from prefect.server.events.jinja_filters import all_filters
from prefect.server.events.schemas.events import ReceivedEvent
from prefect.server.utilities.user_templates import register_user_template_filters
from prefect.utilities.schema_tools.hydration import HydrationContext, hydrate
from pydantic import ValidationError

from config.deploy import DeploySettings
from craflow.release.request import ReleaseRequest
from deployments.build import release_trigger
from deployments.triggers import (
    RELEASE_EVENT_PARAMETERS,
    RELEASE_REQUESTED,
    ReleaseRequestError,
    release_request,
)

ROOT = Path(__file__).resolve().parents[3]


def _prefect_yaml() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    return loaded


def _deployment(name: str) -> dict[str, Any]:
    (found,) = [d for d in _prefect_yaml()["deployments"] if d["name"] == name]
    return found


def test_a_request_carries_the_product_in_the_resource_and_the_rest_in_the_payload() -> None:
    request = release_request(
        "webshop", "2.0.0", {"sbom": "s3://b/sbom.json", "new_only": True, "export": None}
    )
    assert request.resource == {
        "prefect.resource.id": "craflow.product.webshop",
        "craflow.product": "webshop",
    }
    assert request.payload == {"version": "2.0.0", "sbom": "s3://b/sbom.json", "new_only": True}


@pytest.mark.parametrize(
    ("product", "version", "options", "message"),
    [
        ("Web Shop", "1.0", {"sbom": "x"}, "is not a slug"),
        ("webshop", " ", {"sbom": "x"}, "is not a version number"),
        ("webshop", "1.0", {}, "give an SBOM location"),
        ("webshop", "1.0", {"sbom": "x", "sbom_source": "requirements:r.txt"}, "not both"),
        ("webshop", "1.0", {"sbom": "x", "new_only": "yes"}, "new_only must be a bool"),
        ("webshop", "1.0", {"sbom": "x", "api_key": "cra_secret"}, "unknown release option"),
    ],
)
def test_bad_requests_are_refused_with_the_field_named(
    product: str, version: str, options: dict[str, object], message: str
) -> None:
    with pytest.raises(ReleaseRequestError, match=message):
        release_request(product, version, options)


def test_prefect_yaml_trigger_is_the_one_craflow_serve_uses() -> None:
    (trigger,) = _deployment("release-on-event")["triggers"]
    assert trigger["expect"] == [RELEASE_REQUESTED]
    assert trigger["match"] == {"prefect.resource.id": "craflow.product.*"}
    assert trigger["parameters"] == dict(RELEASE_EVENT_PARAMETERS)


def test_prefect_yaml_names_and_schedule_match_the_settings_defaults() -> None:
    settings = DeploySettings()
    release = _deployment(settings.release_name)
    sweep = _deployment(settings.sweep_name)
    assert release["entrypoint"] == "flows/release.py:release_flow"
    assert sweep["entrypoint"] == "flows/sweep.py:sweep_flow"
    assert release["work_pool"]["name"] == sweep["work_pool"]["name"] == settings.work_pool
    (schedule,) = sweep["schedules"]
    assert (schedule["cron"], schedule["timezone"]) == ("0 2 * * *", "Europe/Berlin")
    assert (settings.sweep_cron, settings.sweep_timezone) == ("0 2 * * *", "Europe/Berlin")


def test_an_unknown_time_zone_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRAFLOW_DEPLOY_SWEEP_TIMEZONE", "Mars/Olympus")
    with pytest.raises(ValidationError, match="unknown time zone"):
        DeploySettings()


def _render(payload: dict[str, object]) -> dict[str, Any]:
    """Render the trigger's parameters exactly as Prefect's RunDeployment action does."""
    register_user_template_filters(all_filters)
    parameters = copy.deepcopy(dict(RELEASE_EVENT_PARAMETERS))
    RunDeployment._upgrade_v1_templates(parameters)
    request = release_request("webshop", str(payload.pop("version")), payload)
    event = ReceivedEvent(
        id=uuid.uuid4(),
        occurred=datetime.datetime.now(datetime.UTC),
        event=RELEASE_REQUESTED,
        resource=request.resource,
        payload=dict(request.payload),
    )
    context = HydrationContext(
        raise_on_error=True, render_jinja=True, jinja_context={"event": event}
    )
    rendered: dict[str, Any] = hydrate(parameters, context)
    return rendered


def test_event_fields_keep_their_json_types_and_missing_ones_take_the_configured_defaults() -> None:
    rendered = _render({"version": "1.1.0", "sbom": "s3://b/k.json", "fail_on_kev": True})
    assert rendered["request"] == {
        "product": "webshop",
        "version": "1.1.0",
        "sbom": "s3://b/k.json",
        "sbom_source": None,
        "fail_on": None,
        "unknown_as": None,
        "new_only": False,
        "fail_on_kev": True,
        "require_ready": False,
        "promote": None,
        "deprecate_previous": False,
        "export": None,
        "carry_triage": None,
    }
    # the rendered value is the flow's one parameter, validated into the one request model
    request = ReleaseRequest.model_validate(rendered["request"])
    assert request.fail_on is None and request.promote is None
    assert request.fail_on_kev is True
    (parameter,) = inspect.signature(
        pytest.importorskip("flows.release").release_flow.fn
    ).parameters.values()
    assert parameter.name == "request" and parameter.annotation is ReleaseRequest


def test_a_version_that_looks_like_a_number_stays_a_string() -> None:
    rendered = _render({"version": "2.0", "sbom": "x", "promote": "none", "new_only": False})
    assert rendered["request"]["version"] == "2.0"
    assert rendered["request"]["promote"] == "none"
    assert rendered["request"]["new_only"] is False
    assert ReleaseRequest.model_validate(rendered["request"]).version == "2.0"


def test_the_python_trigger_is_the_prefect_yaml_trigger() -> None:
    (from_yaml,) = _deployment("release-on-event")["triggers"]
    built = release_trigger()
    assert built.name == from_yaml["name"]
    assert built.expect == set(from_yaml["expect"])
    assert built.match.model_dump() == from_yaml["match"]
    assert built.parameters == from_yaml["parameters"]
    assert built.posture == "Reactive"
    assert built.threshold == 1


def test_an_event_with_an_archive_root_passes_the_deployments_parameter_schema() -> None:
    """Prefect validates a deployment run's parameters against the flow's schema before
    the run exists: the archive root an event (or the UI) passes is a string there."""
    from prefect.utilities.callables import parameter_schema
    from prefect.utilities.schema_tools import validate

    release = pytest.importorskip("flows.release").release_flow
    schema = parameter_schema(release.fn).model_dump()
    rendered = _render({"version": "1.1.0", "sbom": "x", "export": "s3://evidence/craflow"})
    validate(rendered, schema, raise_on_error=True)
    request = ReleaseRequest.model_validate(rendered["request"])
    assert request.export is not None and request.export.uri == "s3://evidence/craflow"
