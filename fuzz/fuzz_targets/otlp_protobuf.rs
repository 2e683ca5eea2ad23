//! Arbitrary bytes through `server::fuzzing::otlp_protobuf`.
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    server::fuzzing::otlp_protobuf(bytes);
});
