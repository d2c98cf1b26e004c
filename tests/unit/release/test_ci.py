import pytest

from craflow.release.ci import detect_ci


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, {}),
        ({"CI": "true"}, {}),
        (
            {
                "GITHUB_ACTIONS": "true",
                "GITHUB_SHA": "abc",
                "GITHUB_REF_NAME": "main",
                "GITHUB_REF_TYPE": "branch",
                "GITHUB_RUN_ID": "42",
                "GITHUB_REPOSITORY": "acme/widget",
                "GITHUB_SERVER_URL": "https://github.com",
            },
            {
                "provider": "github",
                "commit_sha": "abc",
                "branch": "main",
                "pipeline_id": "42",
                "repository": "acme/widget",
                "pipeline_url": "https://github.com/acme/widget/actions/runs/42",
            },
        ),
        (
            {"GITHUB_ACTIONS": "true", "GITHUB_REF_TYPE": "tag", "GITHUB_REF_NAME": "v1.2.0"},
            {"provider": "github", "tag": "v1.2.0"},
        ),
        (
            {
                "GITLAB_CI": "true",
                "CI_COMMIT_SHA": "def",
                "CI_COMMIT_BRANCH": "dev",
                "CI_PIPELINE_ID": "7",
                "CI_PROJECT_PATH": "grp/proj",
                "CI_PIPELINE_URL": "https://gitlab.example/grp/proj/-/pipelines/7",
            },
            {
                "provider": "gitlab",
                "commit_sha": "def",
                "branch": "dev",
                "pipeline_id": "7",
                "repository": "grp/proj",
                "pipeline_url": "https://gitlab.example/grp/proj/-/pipelines/7",
            },
        ),
        (
            {
                "JENKINS_URL": "https://ci/",
                "GIT_COMMIT": "123",
                "GIT_BRANCH": "origin/main",
                "BUILD_TAG": "jenkins-widget-9",
                "GIT_URL": "git@github.com:acme/widget.git",
                "BUILD_URL": "https://ci/job/widget/9/",
            },
            {
                "provider": "jenkins",
                "commit_sha": "123",
                "branch": "main",
                "pipeline_id": "jenkins-widget-9",
                "repository": "acme/widget",
                "pipeline_url": "https://ci/job/widget/9/",
            },
        ),
        (
            {
                "TF_BUILD": "True",
                "BUILD_SOURCEVERSION": "aaa",
                "BUILD_SOURCEBRANCH": "refs/tags/v2",
                "BUILD_BUILDID": "55",
                "BUILD_REPOSITORY_NAME": "widget",
                "SYSTEM_COLLECTIONURI": "https://dev.azure.com/acme/",
                "SYSTEM_TEAMPROJECT": "W",
            },
            {
                "provider": "azure-devops",
                "commit_sha": "aaa",
                "tag": "v2",
                "pipeline_id": "55",
                "repository": "widget",
                "pipeline_url": "https://dev.azure.com/acme/W/_build/results?buildId=55",
            },
        ),
        (
            {
                "CIRCLECI": "true",
                "CIRCLE_SHA1": "bbb",
                "CIRCLE_BRANCH": "feat",
                "CIRCLE_WORKFLOW_ID": "wf-1",
                "CIRCLE_PROJECT_USERNAME": "acme",
                "CIRCLE_PROJECT_REPONAME": "widget",
                "CIRCLE_BUILD_URL": "https://circle/1",
            },
            {
                "provider": "circleci",
                "commit_sha": "bbb",
                "branch": "feat",
                "pipeline_id": "wf-1",
                "repository": "acme/widget",
                "pipeline_url": "https://circle/1",
            },
        ),
        (
            {
                "BITBUCKET_BUILD_NUMBER": "12",
                "BITBUCKET_COMMIT": "ccc",
                "BITBUCKET_BRANCH": "main",
                "BITBUCKET_REPO_FULL_NAME": "acme/widget",
            },
            {
                "provider": "bitbucket",
                "commit_sha": "ccc",
                "branch": "main",
                "pipeline_id": "12",
                "repository": "acme/widget",
                "pipeline_url": "https://bitbucket.org/acme/widget/pipelines/results/12",
            },
        ),
    ],
)
def test_detect_ci(env: dict[str, str], expected: dict[str, str]) -> None:
    assert detect_ci(env) == expected


def test_empty_values_are_left_out() -> None:
    assert detect_ci({"GITLAB_CI": "true", "CI_COMMIT_SHA": "  "}) == {"provider": "gitlab"}
