#!/usr/bin/env python3
"""Write the copy of the official Cells REST spec that Prism validates against.

usage: prism-spec.py [SPEC_IN] OUT
  SPEC_IN defaults to tests/spec/cells-rest.swagger.json (the copy in this repository).

Changes (each one documented in README.md, "Spec exceptions"):
  1. every path gets the `/a` prefix (the REST API is served under /a; the spec has no
     basePath);
  2. GET /frontend/state answers the XML plugin registry (application/xml), not the
     JSON restFrontStateResponse the spec claims (docs/protocol.md §3.8);
  3. GET /frontend/bootconf answers a free-form JSON object, not
     restFrontBootConfResponse ({"JsonData": {string: string}}) (docs/protocol.md §3.9);
  4. DELETE /scheduler/jobs/{JobID} (Cells Enterprise API, not in the open-source
     spec; docs/protocol.md §3.11) is added with its documented response.
Nothing else is touched: every other request and response is validated as published.
"""
import json
import os
import sys

ERR = {"$ref": "#/definitions/restError"}


def std_errors():
    return {
        "401": {"description": "User is not authenticated"},
        "403": {"description": "Forbidden", "schema": ERR},
        "404": {"description": "Not found", "schema": ERR},
        "500": {"description": "Internal error", "schema": ERR},
    }


def rewrite(spec):
    paths = spec["paths"]

    st = paths["/frontend/state"]["get"]
    st["produces"] = ["application/xml", "text/xml"]
    st["responses"]["200"] = {
        "description": "XML plugin registry (pydio_registry), with <user id=...> when authenticated",
        "schema": {"type": "string"},
    }

    bc = paths["/frontend/bootconf"]["get"]
    bc["responses"]["200"] = {
        "description": "Free-form JSON boot configuration (ENDPOINT_*, backend{Version,...})",
        "schema": {"type": "object", "additionalProperties": True},
    }

    if "/scheduler/jobs/{JobID}" not in paths:
        paths["/scheduler/jobs/{JobID}"] = {
            "delete": {
                "tags": ["SchedulerService"],
                "summary": "Delete a job (Cells Enterprise API, added for cec jobs delete)",
                "operationId": "DeleteJob",
                "parameters": [
                    {"type": "string", "name": "JobID", "in": "path", "required": True},
                    {"type": "boolean", "name": "CleanableJobs", "in": "query"},
                ],
                "responses": dict(
                    {
                        "200": {
                            "description": "Deletion result",
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "Success": {"type": "boolean"},
                                    "DeleteCount": {"description": "int32 number (or int64 string)"},
                                },
                            },
                        }
                    },
                    **std_errors(),
                ),
            }
        }

    spec["paths"] = {"/a" + p: v for p, v in paths.items()}
    spec.pop("basePath", None)
    spec.pop("host", None)
    spec["schemes"] = ["http", "https"]
    return spec


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    default_in = os.path.join(here, "..", "spec", "cells-rest.swagger.json")
    if len(argv) == 2:
        src, out = default_in, argv[1]
    elif len(argv) == 3:
        src, out = argv[1], argv[2]
    else:
        sys.exit(__doc__)
    with open(src, encoding="utf-8") as f:
        spec = json.load(f)
    spec = rewrite(spec)
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(spec, f, indent=1, sort_keys=False)
    os.replace(tmp, out)


if __name__ == "__main__":
    main(sys.argv)
