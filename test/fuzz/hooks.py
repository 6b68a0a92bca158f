# Schemathesis hooks of the fuzzing step (scripts/fuzz.ts loads them with SCHEMATHESIS_HOOKS).
import json

import schemathesis


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value):
    # The v3 records stream as NDJSON: each generated record on a line of its own (a record, or a list of them).
    records = value if isinstance(value, list) else [value]
    return {"data": "".join(json.dumps(r) + "\n" for r in records).encode("utf-8")}
