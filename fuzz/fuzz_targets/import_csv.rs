//! Arbitrary bytes through `server::fuzzing::import_csv`.
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    server::fuzzing::import_csv(bytes);
});
