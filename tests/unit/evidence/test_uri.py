from pathlib import Path

import pytest

from craflow.evidence.errors import InvalidArchiveUriError
from craflow.evidence.uri import FileLocation, S3Location, check_segment, join_key, parse_location


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("s3://bucket", S3Location("bucket", "")),
        ("s3://bucket/", S3Location("bucket", "")),
        ("s3://bucket/a/b/", S3Location("bucket", "a/b")),
        ("S3://my.bucket-1/evidence", S3Location("my.bucket-1", "evidence")),
        ("file:///abs/path", FileLocation(Path("/abs/path"))),
        ("file://localhost/abs/path", FileLocation(Path("/abs/path"))),
        ("file://./rel/dir", FileLocation(Path("./rel/dir"))),
        ("file:///with%20space", FileLocation(Path("/with space"))),
        ("plain/relative", FileLocation(Path("plain/relative"))),
        ("/plain/absolute", FileLocation(Path("/plain/absolute"))),
    ],
)
def test_parse_location_accepts(uri: str, expected: object) -> None:
    assert parse_location(uri) == expected


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("", "empty"),
        ("s3://", "no bucket"),
        ("s3:///prefix", "no bucket"),
        ("s3://BadBucket/x", "bucket name"),
        ("s3://ab/x", "bucket name"),
        ("s3://bucket/../etc", "relative path component"),
        ("s3://bucket/a/./b", "relative path component"),
        ("s3://bucket/a\\b", "path separator"),
        ("s3://bucket/a\x00b", "control characters"),
        ("file://remote-host/share", "remote host"),
        ("file://", "no path"),
        ("gs://bucket/x", "unsupported archive scheme"),
        ("evil\x1b[31m", "control characters"),
    ],
)
def test_parse_location_refuses(uri: str, message: str) -> None:
    with pytest.raises(InvalidArchiveUriError, match=message) as caught:
        parse_location(uri)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    "value", ["", " ", ".", "..", "a/b", "a\\b", "..\\x", "x\ny", "tab\there", " lead", "x" * 256]
)
def test_check_segment_refuses_unsafe_names(value: str) -> None:
    with pytest.raises(InvalidArchiveUriError):
        check_segment(value, "product name")


@pytest.mark.parametrize(
    "value", ["widget", "1.2.0", "1.0.0+build.5", "Acme Widget", "wïdget", "a..b"]
)
def test_check_segment_accepts_ordinary_names(value: str) -> None:
    assert check_segment(value, "product name") == value


def test_join_key_skips_empty_prefix_and_refuses_overlong_keys() -> None:
    assert join_key("", "a", "b") == "a/b"
    assert join_key("p", "a") == "p/a"
    with pytest.raises(InvalidArchiveUriError, match="longer than"):
        join_key("p", *(["x" * 200] * 6))


def test_location_uris_round_trip() -> None:
    assert S3Location("bucket", "a/b").uri == "s3://bucket/a/b"
    assert S3Location("bucket", "").uri == "s3://bucket"
    assert FileLocation(Path("/tmp/x")).uri == "file:///tmp/x"
