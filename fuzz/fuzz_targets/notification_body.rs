//! `POST /api/notifications/chat` bodies; a message that passes must never carry markup.
#![no_main]

use handler::routes::notify_chat::graph_message_html;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(html) = graph_message_html(data) {
        let stripped = html
            .replace("<p>", "")
            .replace("</p>", "")
            .replace("<br>", "");
        let without_link = match (stripped.find("<a href=\""), stripped.rfind("</a>")) {
            (Some(start), Some(end)) if start < end => {
                let close = stripped[start..].find("\">").map(|i| start + i + 2).unwrap_or(end);
                format!("{}{}{}", &stripped[..start], &stripped[close..end], &stripped[end + 4..])
            }
            _ => stripped,
        };
        assert!(!without_link.contains('<') && !without_link.contains('>'), "{html}");
    }
});
