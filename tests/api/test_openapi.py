import re

from taxicrm.openapi import build_document


def _routes(app):
    for route in app.router.routes():
        if route.method != "HEAD" and route.resource is not None:
            yield route.method.lower(), route.resource.canonical


async def test_the_openapi_document_covers_every_route(client, app, staff_headers):
    response = await client.get("/api/openapi.json", headers=await staff_headers("operator"))
    document = await response.json()
    assert response.status == 200 and document["openapi"].startswith("3.")
    documented = {(method, path) for path, item in document["paths"].items()
                  for method in item if method != "parameters"}
    assert set(_routes(app)) == documented


def test_every_reference_in_the_document_resolves():
    document = build_document()
    text = str(document)
    for section, name in set(re.findall(r"#/components/(\w+)/(\w+)", text)):
        assert name in document["components"][section], f"{section}/{name} is referenced but not defined"


async def test_the_document_is_not_public(client):
    assert (await client.get("/api/openapi.json")).status == 401
