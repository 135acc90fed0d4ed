"""A page's HTTP request and its answer survive the trip through the broker as they were."""

from __future__ import annotations

import pytest

from cti.broker.envelope import (
    BadEnvelope,
    ForwardedAnswer,
    ForwardedRequest,
    decode_answer,
    decode_request,
    encode_answer,
    encode_request,
)
from cti.broker.subjects import BadSubjectName, Subjects


def test_a_request_comes_back_whole_body_and_repeated_headers_included() -> None:
    request = ForwardedRequest(
        method="POST",
        path="/api/calls/1796313042.12/note",
        query="a=1&b=%C3%A9",
        headers=[
            ("cookie", "cti_session=x"),
            ("x-csrf-token", "t"),
            ("accept", "a"),
            ("accept", "b"),
        ],
        client=("10.0.0.7", 51234),
        scheme="https",
        body='{"text": "Rappeler lundi\\nà 9 h"}'.encode(),
    )
    assert decode_request(encode_request(request)) == request


def test_an_answer_keeps_its_status_cookies_and_binary_body() -> None:
    answer = ForwardedAnswer(
        401, [("set-cookie", "a=1"), ("set-cookie", "b=2")], bytes(range(256)) + b"\n\n"
    )
    assert decode_answer(encode_answer(answer)) == answer


@pytest.mark.parametrize("data", [b"", b"not json\n", b"[1]\n", b'{"headers": []}\n'])
def test_what_is_not_ours_is_refused_by_name(data: bytes) -> None:
    with pytest.raises(BadEnvelope):
        decode_request(data)
    with pytest.raises(BadEnvelope):
        decode_answer(data)


def test_subjects_take_no_dots_or_wildcards_from_names() -> None:
    subjects = Subjects("mairie-nord")
    assert subjects.agent("201") == "cti.mairie-nord.agent.201"
    assert subjects.extension_of(subjects.agent("201")) == "201"
    assert subjects.rpc(7) == "cti.mairie-nord.rpc.7"
    with pytest.raises(BadSubjectName, match="poste"):
        subjects.agent("20.*")
    with pytest.raises(BadSubjectName, match="CTI_ROUTER_LEASE_NAME"):
        Subjects("a b")
