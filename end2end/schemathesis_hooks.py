"""Schemathesis hooks for Finishline's API run (loaded through SCHEMATHESIS_HOOKS).

OTLP exports may be sent as protobuf: the bytes Schemathesis generates for that media type go
out unchanged, so the protobuf decoder meets arbitrary input as the JSON decoder does.
"""

import schemathesis

schemathesis.serializer.alias("application/x-protobuf", "application/octet-stream")
