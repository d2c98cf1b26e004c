import pytest

from craflow.sandbox.versions import UnorderableVersionError, in_range, version_key


@pytest.mark.parametrize(
    ("ecosystem", "lower", "higher"),
    [
        ("PyPI", "2.19.0", "2.20.0"),
        ("PyPI", "1.0rc1", "1.0"),
        ("PyPI", "1.0", "1.0.post1"),
        ("npm", "1.2.3-beta.1", "1.2.3"),
        ("npm", "1.9.0", "1.10.0"),
        ("Go", "v0.3.0", "v0.10.0"),
        ("crates.io", "0.9.9", "1.0.0"),
        ("Maven", "2.9.10", "2.9.10.1"),
        ("Maven", "2.9.9", "2.9.10"),
        ("Packagist", "v5.8.9", "v5.8.10"),
    ],
)
def test_versions_order_by_their_ecosystem_rules(ecosystem: str, lower: str, higher: str) -> None:
    key = version_key(ecosystem)
    assert key(lower) < key(higher)


def test_unparseable_versions_are_reported() -> None:
    with pytest.raises(UnorderableVersionError):
        version_key("PyPI")("not a version!")
    with pytest.raises(UnorderableVersionError):
        version_key("npm")("x.y")


FIXED_AT_220 = [{"introduced": "0"}, {"fixed": "2.20.0"}]


@pytest.mark.parametrize(
    ("version", "events", "expected"),
    [
        ("2.19.0", FIXED_AT_220, True),
        ("2.20.0", FIXED_AT_220, False),
        ("3.0", FIXED_AT_220, False),
        ("1.5", [{"introduced": "1.2"}, {"fixed": "1.6"}], True),
        ("1.1", [{"introduced": "1.2"}, {"fixed": "1.6"}], False),
        ("1.6", [{"introduced": "1.2"}, {"last_affected": "1.6"}], True),
        ("1.7", [{"introduced": "1.2"}, {"last_affected": "1.6"}], False),
        ("2.5", [{"introduced": "1.0"}, {"fixed": "1.5"}, {"introduced": "2.0"}], True),
        ("1.7", [{"introduced": "1.0"}, {"fixed": "1.5"}, {"introduced": "2.0"}], False),
        ("garbage!", FIXED_AT_220, False),
    ],
)
def test_osv_range_semantics(version: str, events: list[dict[str, str]], expected: bool) -> None:
    assert in_range(version, events, version_key("PyPI")) is expected


def test_semver_ranges_use_semver_not_text_order() -> None:
    events = [{"introduced": "0"}, {"fixed": "1.10.0"}]
    assert in_range("1.9.0", events, version_key("npm"))
    assert not in_range("1.10.0", events, version_key("npm"))
