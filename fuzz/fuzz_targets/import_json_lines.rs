//! Arbitrary bytes through `server::fuzzing::import_json_lines`.
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    server::fuzzing::import_json_lines(bytes);
});
