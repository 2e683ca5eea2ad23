//! Arbitrary bytes through `server::fuzzing::ingest_batch`.
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    server::fuzzing::ingest_batch(bytes);
});
