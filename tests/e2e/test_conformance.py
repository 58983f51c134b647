"""Every event of the CloudEvents conformance suite, sent to the broker in binary and in
structured mode, reaches a subscriber with the same attributes, extensions and data."""

from __future__ import annotations

import http.client
import json
from typing import Any
from urllib.parse import quote, unquote

import pytest
import yaml

from tests.conftest import REPO, Mesh

pytestmark = pytest.mark.e2e
CONFORMANCE = REPO.parent / "shared" / "reference" / "cloudevents" / "yaml"
SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '"%')


def cases() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(CONFORMANCE.rglob("*.yaml")):
        documents = [d for d in yaml.load_all(path.read_text(), Loader=yaml.BaseLoader) if d]  # every scalar as text
        for index, document in enumerate(documents):
            modes = [document["Mode"]] if "Mode" in document else ["binary", "structured"]
            found.extend(
                (f"{path.relative_to(CONFORMANCE)}#{index}-{mode}", {**document, "Mode": mode}) for mode in modes
            )
    return found


def attributes_of(case: dict[str, Any]) -> dict[str, str]:
    context = dict(case["ContextAttributes"])
    return {**{k: v for k, v in context.items() if k != "Extensions"}, **context.get("Extensions", {})}


def request_for(case: dict[str, Any]) -> tuple[dict[str, str], bytes]:
    attributes, data = attributes_of(case), case.get("Data", "").encode()
    headers = dict(case.get("TransportExtensions", {}))
    if case["Mode"] == "binary":
        headers.update({f"ce-{k}": quote(v, safe=SAFE) for k, v in attributes.items() if k != "datacontenttype"})
        if "datacontenttype" in attributes:
            headers["content-type"] = attributes["datacontenttype"]
        return headers, data
    document: dict[str, Any] = dict(attributes)
    content_type = attributes.get("datacontenttype", "application/json")
    document["data"] = json.loads(data) if "json" in content_type else data.decode()
    headers["content-type"] = "application/cloudevents+json; charset=utf-8"
    return headers, json.dumps(document).encode()


@pytest.fixture(scope="module")
def conformance_mesh(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    import os

    from tests.conftest import free_port

    home = tmp_path_factory.mktemp("conformance")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CULTUREMESH_", "K_"))}
    env.update(CULTUREMESH_HOME=str(home), CULTUREMESH_PROJECT=str(REPO), CULTUREMESH_PORT=str(free_port()))
    mesh = Mesh(home, int(env["CULTUREMESH_PORT"]), env)
    mesh.start()
    yield mesh
    mesh.stop()


@pytest.mark.parametrize(("name", "case"), cases(), ids=[name for name, _ in cases()])
def test_conformance_event_reaches_the_subscriber_unchanged(
    conformance_mesh: Mesh, make_sink, name: str, case: dict[str, Any]
) -> None:
    sink = make_sink()
    trigger = {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Trigger",
        "metadata": {"name": f"conf-{sink.port}", "namespace": "culturemesh"},
        "spec": {"broker": "default", "subscriber": {"uri": sink.url}},
    }
    conformance_mesh.apply(trigger)
    headers, body = request_for(case)
    # http.client, not urllib: urllib would add a form content type the event does not have
    connection = http.client.HTTPConnection("127.0.0.1", conformance_mesh.port, timeout=10)
    connection.request("POST", "/culturemesh/default", body=body, headers=headers)
    assert connection.getresponse().status == 202
    connection.close()

    received = sink.wait_raw(1, timeout=20)[0]
    got = {k[3:]: unquote(v) for k, v in received["headers"].items() if k.startswith("ce-")}
    if "content-type" in received["headers"]:
        got["datacontenttype"] = received["headers"]["content-type"]
    expected = attributes_of(case)
    assert got.pop("knativebrokerttl") == "255"
    assert got == expected
    data = case.get("Data", "").encode()
    if case["Mode"] == "binary":
        assert received["body"] == data
    elif "json" in expected.get("datacontenttype", "application/json"):
        assert json.loads(received["body"]) == json.loads(data)
    else:
        assert received["body"] == data
