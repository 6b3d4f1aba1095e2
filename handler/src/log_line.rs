//! The JSON log line, written straight from the fields.
//!
//! The line is the one `tracing-subscriber`'s JSON format writes with a flattened event and the
//! current span: `{"timestamp":…,"level":…,<event fields>,"span":{<span fields>,"name":…}}`.
//! That format keeps a span's fields as JSON text and parses it back into a `serde_json::Value`
//! each time a field is recorded (the request span records its route and tenant) and again for
//! every line; in a profile of the validate path that was the largest user-space cost of a
//! request after RSA. Here a span keeps its fields as ready-written `"key":value` entries, one per
//! line of its text (a raw newline never occurs in JSON text, since strings escape it), so
//! recording replaces an entry and writing a line copies them. Keys keep the order they were
//! recorded in; JSON readers do not care.

use std::fmt::{self, Write as _};

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// The event formatter: one JSON object per line.
#[derive(Debug, Default, Clone, Copy)]
pub struct JsonLine;

/// The span field formatter that goes with `JsonLine`.
#[derive(Debug, Default, Clone, Copy)]
pub struct SpanFields;

impl<S> FormatEvent<S, SpanFields> for JsonLine
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn format_event(
        &self,
        context: &FmtContext<'_, S, SpanFields>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        writer.write_str("{\"timestamp\":\"")?;
        SystemTime.format_time(&mut writer)?;
        write!(writer, "\",\"level\":\"{}\"", event.metadata().level())?;
        event.record(&mut Entries {
            out: &mut writer,
            separator: ",",
            result: Ok(()),
        });
        if let Some(span) = context.lookup_current() {
            writer.write_str(",\"span\":{")?;
            let extensions = span.extensions();
            if let Some(fields) = extensions.get::<FormattedFields<SpanFields>>() {
                for entry in fields.fields.split('\n').filter(|e| !e.is_empty()) {
                    writer.write_str(entry)?;
                    writer.write_char(',')?;
                }
            }
            writer.write_str("\"name\":")?;
            write_json_string(&mut writer, span.name())?;
            writer.write_char('}')?;
        }
        writer.write_str("}\n")
    }
}

impl<'writer> FormatFields<'writer> for SpanFields {
    fn format_fields<R: RecordFields>(
        &self,
        mut writer: Writer<'writer>,
        fields: R,
    ) -> fmt::Result {
        let mut entries = Entries {
            out: &mut writer,
            separator: "\n",
            result: Ok(()),
        };
        fields.record(&mut entries);
        entries.result
    }

    fn add_fields(
        &self,
        current: &'writer mut FormattedFields<Self>,
        fields: &tracing::span::Record<'_>,
    ) -> fmt::Result {
        let mut added = String::new();
        self.format_fields(Writer::new(&mut added), fields)?;
        for entry in added.split('\n').filter(|e| !e.is_empty()) {
            remove_entry(&mut current.fields, entry_key(entry));
            current.fields.push('\n');
            current.fields.push_str(entry);
        }
        Ok(())
    }
}

/// Removes the entry of `key` (`"name"`, quotes included) from a span's entries, in place.
fn remove_entry(entries: &mut String, key: &str) {
    let mut start = 0;
    for entry in entries.split('\n') {
        let end = start + entry.len();
        if !entry.is_empty() && entry_key(entry) == key {
            // The entry and the newline before it (each entry but the first has one; the first
            // one written also starts with one).
            entries.replace_range(start.saturating_sub(1)..end, "");
            return;
        }
        start = end + 1;
    }
}

/// `"key"` of a `"key":value` entry: a key's closing quote is the first unescaped one, and
/// field names never contain quotes, so the first `":` ends it.
fn entry_key(entry: &str) -> &str {
    entry.split_once("\":").map_or(entry, |(key, _)| key)
}

/// Writes each field as `"name":value`, each preceded by `separator` (a comma after what the
/// line already holds; a newline between a span's entries, where a leading one is harmless).
struct Entries<'a, 'w> {
    out: &'a mut Writer<'w>,
    separator: &'static str,
    result: fmt::Result,
}

impl Entries<'_, '_> {
    fn entry(&mut self, field: &Field, value: impl FnOnce(&mut Writer<'_>) -> fmt::Result) {
        if self.result.is_err() {
            return;
        }
        self.result = (|| {
            self.out.write_str(self.separator)?;
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
            .fmt_fields(SpanFields)
            .event_format(JsonLine)
            .with_writer(lines.clone());
        tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), work);
        let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
            .collect()
    }

    #[test]
    fn a_line_holds_the_event_and_the_current_span_with_recorded_fields_replaced() {
        let lines = lines_of(|| {
            let span = tracing::info_span!(
                "request",
                method = %"POST",
                route = "unmatched",
                tenant_id = tracing::field::Empty,
                correlation_id = %"c-1",
            );
            let _entered = span.enter();
            span.record("route", "Health");
            span.record("tenant_id", tracing::field::display("t-0"));
            span.record("route", "TokenValidate");
            span.record("tenant_id", tracing::field::display("t-1"));
            tracing::info!(
                status = 200_u16,
                latency_ms = 0.25,
                ok = true,
                "request completed"
            );
        });
        assert_eq!(lines.len(), 1);
        let line = &lines[0];
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["message"], "request completed");
        assert_eq!(line["status"], 200);
        assert_eq!(line["latency_ms"], 0.25);
        assert_eq!(line["ok"], true);
        assert_eq!(
            line["span"],
            serde_json::json!({
                "method": "POST", "route": "TokenValidate", "tenant_id": "t-1",
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
            let span = tracing::info_span!("request", route = awkward);
            let _entered = span.enter();
            tracing::warn!(detail = awkward, error = %awkward, "failed: {}", awkward);
        });
        assert_eq!(lines.len(), 1);
        let line = &lines[0];
        assert_eq!(line["detail"], awkward);
        assert_eq!(line["error"], awkward);
        assert_eq!(line["message"], format!("failed: {awkward}"));
        assert_eq!(line["span"]["route"], awkward);
    }

    #[test]
    fn a_line_outside_any_span_has_no_span_and_numbers_json_cannot_hold_are_null() {
        let lines = lines_of(|| tracing::error!(ratio = f64::NAN, count = -3_i64, "alone"));
        assert_eq!(lines[0]["ratio"], serde_json::Value::Null);
        assert_eq!(lines[0]["count"], -3);
        assert!(lines[0].get("span").is_none());
    }
}
