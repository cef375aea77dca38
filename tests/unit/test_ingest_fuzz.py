"""Ingest never raises on hostile input: every input is an event or a readable rejection without raw ids."""

from hypothesis import HealthCheck, given, settings

from isf.ingest import Rejected, parse, to_activity
from tests.fuzz_inputs import HOSTILE

from .helpers import KEY


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(raw=HOSTILE)
def test_parse_never_raises_and_rejections_are_readable(raw):
    out = parse(raw, KEY)
    if isinstance(out, Rejected):
        assert out.errors and all(isinstance(e, str) and e for e in out.errors)
        assert len(out.payload) < 5000
        assert "SYN-1" not in out.payload  # the patient id is pseudonymised in the dead letter too
    else:
        assert to_activity(out, KEY).patient != "SYN-1"
