import pytest

from craflow.release.errors import ReleaseInputError
from craflow.release.names import check_release_names


@pytest.mark.parametrize(
    ("product", "version"),
    [
        ("webshop", "1.2.3"),
        ("web-shop-2", "1.0.0-rc.1+build.5"),
        ("a", "2024.11.27"),
        ("x", "v1.0~beta_2"),
        ("p" * 100, "9" * 100),
    ],
)
def test_slugs_and_version_numbers_that_are_accepted(product: str, version: str) -> None:
    check_release_names(product, version)


@pytest.mark.parametrize(
    ("product", "version", "names"),
    [
        ("Web Shop", "1.0", "product"),
        ("-webshop", "1.0", "product"),
        ("p" * 101, "1.0", "product"),
        ("webshop", "1.0 beta", "version"),
        ("webshop", "../../etc", "version"),
        ("webshop", "1/2", "version"),
        ("webshop", "1" * 101, "version"),
        ("webshop", "1.0\n", "version"),
        ("webshop", "", "version"),
    ],
)
def test_bad_names_are_refused_with_a_one_line_reason(
    product: str, version: str, names: str
) -> None:
    with pytest.raises(ReleaseInputError) as caught:
        check_release_names(product, version)
    assert str(caught.value).startswith(names)
    assert "\n" not in str(caught.value)
