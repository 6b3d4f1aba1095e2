//! `POST /api/meetings` bodies: JSON parsing, validation, and the Graph body built from them.
#![no_main]

use handler::routes::create_meeting::graph_meeting_body;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = graph_meeting_body(data);
});
