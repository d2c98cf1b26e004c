"""Detect CI metadata (provider, commit, branch, pipeline, repository) from the environment.

Covers GitHub Actions, GitLab CI, Jenkins, Azure DevOps, CircleCI and Bitbucket
Pipelines, reading the variables each system documents. The keys match the
form fields of the platform's `/ci/upload` (`commit_sha`, `branch`,
`pipeline_id`, `repository`) plus `provider`, `tag` and `pipeline_url`.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass

Env = Mapping[str, str]


def _first(env: Env, *names: str) -> str:
    for name in names:
        value = env.get(name, "").strip()
        if value:
            return value
    return ""


def _strip_ref(ref: str) -> str:
    for prefix in ("refs/heads/", "refs/tags/", "origin/"):
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    return ref


def _repo_from_url(url: str) -> str:
    """`https://host/org/repo.git` or `git@host:org/repo.git` → `org/repo`."""
    tail = url.rstrip("/").removesuffix(".git")
    tail = tail.split(":", 1)[1] if tail.startswith("git@") else tail
    parts = [p for p in tail.split("/") if p]
    return "/".join(parts[-2:]) if len(parts) >= 2 else tail


def _github(env: Env) -> dict[str, str]:
    is_tag = env.get("GITHUB_REF_TYPE") == "tag"
    server = _first(env, "GITHUB_SERVER_URL") or "https://github.com"
    repo, run = _first(env, "GITHUB_REPOSITORY"), _first(env, "GITHUB_RUN_ID")
    return {
        "commit_sha": _first(env, "GITHUB_SHA"),
        "branch": "" if is_tag else _first(env, "GITHUB_HEAD_REF", "GITHUB_REF_NAME"),
        "tag": _first(env, "GITHUB_REF_NAME") if is_tag else "",
        "pipeline_id": run,
        "repository": repo,
        "pipeline_url": f"{server}/{repo}/actions/runs/{run}" if repo and run else "",
    }


def _gitlab(env: Env) -> dict[str, str]:
    return {
        "commit_sha": _first(env, "CI_COMMIT_SHA"),
        "branch": _first(env, "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", "CI_COMMIT_BRANCH"),
        "tag": _first(env, "CI_COMMIT_TAG"),
        "pipeline_id": _first(env, "CI_PIPELINE_ID"),
        "repository": _first(env, "CI_PROJECT_PATH"),
        "pipeline_url": _first(env, "CI_PIPELINE_URL"),
    }


def _jenkins(env: Env) -> dict[str, str]:
    return {
        "commit_sha": _first(env, "GIT_COMMIT"),
        "branch": _strip_ref(_first(env, "BRANCH_NAME", "GIT_BRANCH")),
        "tag": _first(env, "TAG_NAME"),
        "pipeline_id": _first(env, "BUILD_TAG", "BUILD_ID", "BUILD_NUMBER"),
        "repository": _repo_from_url(_first(env, "GIT_URL")) if env.get("GIT_URL") else "",
        "pipeline_url": _first(env, "BUILD_URL"),
    }


def _azure(env: Env) -> dict[str, str]:
    ref = _first(env, "BUILD_SOURCEBRANCH")
    collection = _first(env, "SYSTEM_COLLECTIONURI", "SYSTEM_TEAMFOUNDATIONCOLLECTIONURI")
    project, build = _first(env, "SYSTEM_TEAMPROJECT"), _first(env, "BUILD_BUILDID")
    url = ""
    if collection and project and build:
        url = f"{collection.rstrip('/')}/{project}/_build/results?buildId={build}"
    return {
        "commit_sha": _first(env, "BUILD_SOURCEVERSION"),
        "branch": "" if ref.startswith("refs/tags/") else _strip_ref(ref),
        "tag": _strip_ref(ref) if ref.startswith("refs/tags/") else "",
        "pipeline_id": build,
        "repository": _first(env, "BUILD_REPOSITORY_NAME"),
        "pipeline_url": url,
    }


def _circleci(env: Env) -> dict[str, str]:
    user, name = _first(env, "CIRCLE_PROJECT_USERNAME"), _first(env, "CIRCLE_PROJECT_REPONAME")
    return {
        "commit_sha": _first(env, "CIRCLE_SHA1"),
        "branch": _first(env, "CIRCLE_BRANCH"),
        "tag": _first(env, "CIRCLE_TAG"),
        "pipeline_id": _first(env, "CIRCLE_WORKFLOW_ID", "CIRCLE_BUILD_NUM"),
        "repository": f"{user}/{name}" if user and name else "",
        "pipeline_url": _first(env, "CIRCLE_BUILD_URL"),
    }


def _bitbucket(env: Env) -> dict[str, str]:
    repo, build = _first(env, "BITBUCKET_REPO_FULL_NAME"), _first(env, "BITBUCKET_BUILD_NUMBER")
    return {
        "commit_sha": _first(env, "BITBUCKET_COMMIT"),
        "branch": _first(env, "BITBUCKET_BRANCH"),
        "tag": _first(env, "BITBUCKET_TAG"),
        "pipeline_id": build,
        "repository": repo,
        "pipeline_url": (
            f"https://bitbucket.org/{repo}/pipelines/results/{build}" if repo and build else ""
        ),
    }


@dataclass(frozen=True)
class CiProvider:
    """One CI system: how to recognise it and how to read its metadata."""

    name: str
    detect: Callable[[Env], bool]
    read: Callable[[Env], dict[str, str]]


PROVIDERS: tuple[CiProvider, ...] = (
    CiProvider("github", lambda e: e.get("GITHUB_ACTIONS", "").lower() == "true", _github),
    CiProvider("gitlab", lambda e: e.get("GITLAB_CI", "").lower() == "true", _gitlab),
    CiProvider("azure-devops", lambda e: e.get("TF_BUILD", "").lower() == "true", _azure),
    CiProvider("circleci", lambda e: e.get("CIRCLECI", "").lower() == "true", _circleci),
    CiProvider("bitbucket", lambda e: bool(e.get("BITBUCKET_BUILD_NUMBER")), _bitbucket),
    CiProvider("jenkins", lambda e: bool(e.get("JENKINS_URL") or e.get("JENKINS_HOME")), _jenkins),
)


def detect_ci(env: Env) -> dict[str, str]:
    """The CI metadata found in *env*; `{}` when not running in a known CI system."""
    for provider in PROVIDERS:
        if provider.detect(env):
            found = {k: v for k, v in provider.read(env).items() if v}
            return {"provider": provider.name, **found}
    return {}
