import pytest


@pytest.mark.integration
def test_a_flow_runs_under_the_harness(prefect_harness: None) -> None:
    from prefect import flow, task

    @task
    def double(x: int) -> int:
        return 2 * x

    @flow
    def small(x: int) -> int:
        return double(x)

    assert small(21) == 42
