"""The monitor API's OpenAPI 3 description, served at /api/openapi.json."""

from __future__ import annotations


def _get(summary: str, params: list[dict] | None = None, content: str = "application/json") -> dict:
    return {
        "get": {
            "summary": summary,
            "security": [{"bearer": []}, {"session": []}],
            "parameters": params or [],
            "responses": {
                "200": {"description": "OK", "content": {content: {}}},
                "400": {"$ref": "#/components/responses/Error"},
                "401": {"$ref": "#/components/responses/Error"},
                "403": {"$ref": "#/components/responses/Error"},
                "404": {"$ref": "#/components/responses/Error"},
            },
        }
    }


def _session(method: str, summary: str, ok: str) -> dict:
    return {
        method: {
            "summary": summary,
            "security": [{"bearer": []}] if method == "post" else [],
            "responses": {ok: {"description": "OK"}, "401": {"$ref": "#/components/responses/Error"}},
        }
    }


def _q(name: str, description: str, enum: list | None = None, schema_type: str = "string") -> dict:
    schema = {"type": schema_type, **({"enum": enum} if enum else {})}
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


def _p(name: str, description: str, enum: list | None = None) -> dict:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string", **({"enum": enum} if enum else {})},
    }


YEAR = _q("year", "rule year, e.g. 2026 (default: the latest with activity)")
SPEC = {
    "openapi": "3.0.3",
    "info": {
        "title": "ISF Stream monitor",
        "version": "1",
        "description": "Points, NOK, STG/TFG counts, RBF and errors per HF and RHF, scoped by the caller's "
        "token (national, rhf:<rhf>, hf:<hf>), sent as `Authorization: Bearer <token>` or exchanged once for a "
        "session cookie (POST /api/session); a token in a URL is refused. No patient-level data.",
    },
    "components": {
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "session": {"type": "apiKey", "in": "cookie", "name": "isf_session"},
        },
        "responses": {
            "Error": {
                "description": "error",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {"error": {"type": "string"}, "status": {"type": "integer"}},
                        }
                    }
                },
            }
        },
    },
    "paths": {
        "/api/me": _get("the caller's role and the HFs and RHFs it sees"),
        "/api/summary": _get(
            "points and NOK per HF, RHF and nation by system and sector, with the same period last year",
            [YEAR, _q("period", "period", ["year", "tertial", "T1", "T2", "T3", "today"])],
        ),
        "/api/hf/{hf}": _get(
            "one HF: periods, STG/TFG/DRG counts, event counters, latest dead-letter errors",
            [_p("hf", "HF code (see the registry)"), YEAR],
        ),
        "/api/counts": _get("DRG episodes and STG/TFG patient-periods per HF", [YEAR]),
        "/api/timeseries": _get(
            "ISF points settled per hour or day (UTC) per HF and RHF",
            [
                _q("resolution", "bucket size", ["hour", "day"]),
                _q("span", "number of buckets (hours: 1-336, days: 1-400)", schema_type="integer"),
            ],
        ),
        "/api/rbf": _get(
            "RBF achievement per indicator against target and step, and NOK per RHF",
            [YEAR, _q("kind", "statement", ["provisional", "final"])],
        ),
        "/api/statements/{year}/{kind}": {
            "get": {
                **_get(
                    "settlement statement",
                    [
                        _p("year", "rule year"),
                        _p("kind", "statement", ["t1", "t2", "final", "difference", "provisional"]),
                        _q("format", "file format", ["json", "csv", "xlsx"]),
                    ],
                )["get"]
            }
        },
        "/api/coding": _get(
            "coding feedback per HF: episodes in error DRGs with reasons (source ids to the HF itself), case-mix "
            "index and complication share per month, drift signals",
            [YEAR, _q("format", "file format", ["json", "csv"])],
        ),
        "/api/errors": _get("dead-lettered input per HF with the latest readable errors"),
        "/api/ops": _get("events per second, live workers, consumer lag and items set aside per service"),
        "/api/events": _get(
            "server-sent events: `view` with the view's generated_at whenever the settled totals' view changes "
            "(once on connecting); a browser's EventSource sends the session cookie. At most "
            "ISF_MONITOR_STREAMS_PER_TOKEN open per token and ISF_MONITOR_STREAMS in all, then 429",
            content="text/event-stream",
        ),
        "/api/session": {
            **_session("post", "sign in: the Bearer token for an HttpOnly, SameSite=Strict session cookie", "200"),
            **_session("delete", "sign out: the session cookie cleared", "204"),
        },
        "/api/openapi.json": {"get": {"summary": "this document", "responses": {"200": {"description": "OK"}}}},
    },
}
