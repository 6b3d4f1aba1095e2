//! The JSON log line, written straight from the fields.
//!
//! The line keeps the shape of `tracing-subscriber`'s JSON format with a flattened event and the
//! current span:
//! `{"timestamp":…,"level":…,<event fields>,"span":{<request fields>,"name":"request"}}`.
//! The `span` object is the request's record (`request_record`), read from the task the line is
//! logged in; a line logged outside a request has none. That JSON format kept a span's fields as
//! JSON text and parsed it back into a `serde_json::Value` whenever a field was recorded and
//! again for every line; in a profile of the validate path that was the largest user-space cost
//! of a request after RSA.

use std::fmt::{self, Write as _};

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

use crate::request_record::{self, RequestRecord};

/// The event formatter: one JSON object per line.
#[derive(Debug, Default, Clone, Copy)]
pub struct JsonLine;

impl<S, N> FormatEvent<S, N> for JsonLine
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'w> FormatFields<'w> + 'static,
{
    fn format_event(
        &self,
        _context: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        writer.write_str("{\"timestamp\":\"")?;
        SystemTime.format_time(&mut writer)?;
        write!(writer, "\",\"level\":\"{}\"", event.metadata().level())?;
        let mut entries = Entries {
            out: &mut writer,
            result: Ok(()),
        };
        event.record(&mut entries);
        entries.result?;
        request_record::with_current(|record| write_request(&mut writer, record))
            .unwrap_or(Ok(()))?;
        writer.write_str("}\n")
    }
}

/// `,"span":{…}`: the name `span` and `"name":"request"` keep the lines readable by queries
/// written for tracing-subscriber's JSON format.
fn write_request(out: &mut Writer<'_>, record: &RequestRecord) -> fmt::Result {
    write!(out, ",\"span\":{{\"method\":")?;
    write_json_string(out, record.method().as_str())?;
    out.write_str(",\"route\":")?;
    write_json_string(out, record.function())?;
    if let Some(tenant_id) = record.tenant_id() {
        write!(out, ",\"tenant_id\":\"{tenant_id}\"")?;
    }
    out.write_str(",\"correlation_id\":")?;
    write_json_string(out, record.correlation_id().as_str())?;
    out.write_str(",\"name\":\"request\"}")
}

/// Writes each field as `,"name":value` after what the line already holds.
struct Entries<'a, 'w> {
    out: &'a mut Writer<'w>,
    result: fmt::Result,
}

impl Entries<'_, '_> {
    fn entry(&mut self, field: &Field, value: impl FnOnce(&mut Writer<'_>) -> fmt::Result) {
        if self.result.is_err() {
            return;
        }
        self.result = (|| {
            self.out.write_char(',')?;
            write_json_string(self.out, field.name())?;
            self.out.write_char(':')?;
            value(self.out)
        })();
    }
}

impl Visit for Entries<'_, '_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.entry(field, |out| write_json_string(out, value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.entry(field, |out| write!(out, "{value}"));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.entry(field, |out| write!(out, "{value}"));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.entry(field, |out| write!(out, "{value}"));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        // JSON has no NaN or infinity; serde_json writes them as null too.
        self.entry(field, |out| {
            if value.is_finite() {
                write!(out, "{value}")
            } else {
                out.write_str("null")
            }
        });
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.entry(field, |out| write_json_string(out, &value.to_string()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        // `message` arrives as `fmt::Arguments`, whose Debug is its text.
        self.entry(field, |out| {
            out.write_char('"')?;
            write!(Escaped(out), "{value:?}")?;
            out.write_char('"')
        });
    }
}

fn write_json_string(out: &mut impl fmt::Write, text: &str) -> fmt::Result {
    out.write_char('"')?;
    Escaped(out).write_str(text)?;
    out.write_char('"')
}

/// Escapes what it is given for the inside of a JSON string (RFC 8259 §7).
struct Escaped<'a, W: fmt::Write + ?Sized>(&'a mut W);

impl<W: fmt::Write + ?Sized> fmt::Write for Escaped<'_, W> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        let mut plain_from = 0;
        for (at, byte) in text.bytes().enumerate() {
            let escape = match byte {
                b'"' => "\\\"",
                b'\\' => "\\\\",
                b'\n' => "\\n",
                b'\r' => "\\r",
                b'\t' => "\\t",
                0x00..=0x1f => "",
                _ => continue,
            };
            self.0.write_str(&text[plain_from..at])?;
            if escape.is_empty() {
                write!(self.0, "\\u{byte:04x}")?;
            } else {
                self.0.write_str(escape)?;
            }
            plain_from = at + 1;
        }
        self.0.write_str(&text[plain_from..])
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::fmt::MakeWriter;
    use tracing_subscriber::layer::SubscriberExt as _;

    use super::*;

    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Lines {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Lines {
        type Writer = Lines;
        fn make_writer(&'a self) -> Lines {
            self.clone()
        }
    }

    fn lines_of(work: impl FnOnce()) -> Vec<serde_json::Value> {
        let lines = Lines::default();
        let layer = tracing_subscriber::fmt::layer()
            .event_format(JsonLine)
            .with_writer(lines.clone());
        tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), work);
        let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
            .collect()
    }

    fn record(correlation_id: &str) -> RequestRecord {
        let headers = warp::http::HeaderMap::from_iter([(
            warp::http::header::HeaderName::from_static("x-ms-client-request-id"),
            warp::http::HeaderValue::from_str(correlation_id).unwrap(),
        )]);
        RequestRecord::new(
            warp::http::Method::POST,
            crate::correlation::CorrelationId::from_headers(&headers),
        )
    }

    #[test]
    fn a_line_holds_the_event_and_the_request_as_routing_and_validation_left_it() {
        let tenant = uuid::Uuid::from_u128(1);
        let lines = lines_of(|| {
            record("c-1").sync_scope(|| {
                tracing::info!("before routing");
                request_record::name_function("TokenValidate");
                request_record::set_tenant(tenant);
                tracing::info!(
                    status = 200_u16,
                    latency_ms = 0.25,
                    ok = true,
                    "request completed"
                );
            });
        });
        assert_eq!(lines.len(), 2);
        assert_eq!(
            lines[0]["span"],
            serde_json::json!({
                "method": "POST", "route": "unmatched", "correlation_id": "c-1", "name": "request",
            })
        );
        let line = &lines[1];
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["message"], "request completed");
        assert_eq!(line["status"], 200);
        assert_eq!(line["latency_ms"], 0.25);
        assert_eq!(line["ok"], true);
        assert_eq!(
            line["span"],
            serde_json::json!({
                "method": "POST", "route": "TokenValidate", "tenant_id": tenant.to_string(),
                "correlation_id": "c-1", "name": "request",
            })
        );
        let timestamp = line["timestamp"].as_str().unwrap();
        assert!(
            timestamp.ends_with('Z') && timestamp.contains('T'),
            "{timestamp}"
        );
    }

    #[test]
    fn text_that_needs_escaping_stays_one_valid_line() {
        let awkward = "quote \" backslash \\ newline \n tab \t bell \u{7} unicode é";
        let lines = lines_of(|| {
            tracing::warn!(detail = awkward, error = %awkward, "failed: {}", awkward);
        });
        assert_eq!(lines.len(), 1);
        let line = &lines[0];
        assert_eq!(line["detail"], awkward);
        assert_eq!(line["error"], awkward);
        assert_eq!(line["message"], format!("failed: {awkward}"));
    }

    #[test]
    fn a_line_outside_any_request_has_no_span_and_numbers_json_cannot_hold_are_null() {
        let lines = lines_of(|| {
            let span = tracing::info_span!("start-up");
            let _entered = span.enter();
            tracing::error!(ratio = f64::NAN, count = -3_i64, "alone");
        });
        assert_eq!(lines[0]["ratio"], serde_json::Value::Null);
        assert_eq!(lines[0]["count"], -3);
        assert!(lines[0].get("span").is_none());
    }
}
