//! Listings that stream (`account list`, `integration list`, `log`): read from the store a page
//! at a time (keyset pagination) and printed as each page arrives, so memory holds one page
//! whatever the number of rows. `--json` writes its one array an element at a time, byte for
//! byte the document [`Out::json`] would write for the whole array; human output prints one
//! table per page.

use std::future::Future;
use std::io::{BufWriter, Write};

use serde_json::Value;

use crate::failure::Failure;
use crate::output::Out;

/// Rows read from the store at a time.
pub(crate) const PAGE: usize = 1_000;

/// A JSON array written an element at a time.
pub(crate) struct JsonArray<W: Write> {
    out: W,
    count: usize,
}

impl<W: Write> JsonArray<W> {
    pub(crate) fn new(out: W) -> Self {
        Self { out, count: 0 }
    }

    /// Writes one element, indented as `serde_json::to_string_pretty` indents an array's.
    pub(crate) fn push(&mut self, value: &Value) -> std::io::Result<()> {
        let text = serde_json::to_string_pretty(value).map_err(std::io::Error::other)?;
        self.out
            .write_all(if self.count == 0 { b"[\n" } else { b",\n" })?;
        // Strings never hold a raw newline (JSON escapes it), so every line is one to indent.
        for (i, line) in text.split('\n').enumerate() {
            if i > 0 {
                self.out.write_all(b"\n")?;
            }
            self.out.write_all(b"  ")?;
            self.out.write_all(line.as_bytes())?;
        }
        self.count += 1;
        Ok(())
    }

    pub(crate) fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }

    /// Closes the array (`[]` when nothing was pushed) and ends the line.
    pub(crate) fn finish(mut self) -> std::io::Result<()> {
        self.out
            .write_all(if self.count == 0 { b"[]\n" } else { b"\n]\n" })?;
        self.out.flush()
    }
}

/// How a listing is printed: JSON elements or table rows.
pub(crate) struct Render<'a, T> {
    pub(crate) header: &'a [&'a str],
    pub(crate) json: &'a dyn Fn(&T) -> Value,
    pub(crate) row: &'a dyn Fn(&T) -> Vec<String>,
}

/// Reads pages through `fetch(after, size)` from after `after`, at most `limit` rows in all,
/// printing each page as it arrives, and returns the keyset a next listing continues from when
/// `limit` cut it short and more rows follow.
///
/// # Errors
/// The store's, as a [`Failure`]. An error after the first page leaves the rows printed so far
/// (in `--json` a document without its closing bracket, then the error document).
pub(crate) async fn stream<T, K, F, Fut>(
    out: Out,
    limit: Option<u64>,
    mut after: Option<K>,
    key: impl Fn(&T) -> K,
    mut fetch: F,
    render: &Render<'_, T>,
) -> Result<Option<K>, Failure>
where
    F: FnMut(Option<K>, usize) -> Fut,
    Fut: Future<Output = Result<Vec<T>, Failure>>,
    K: Clone,
{
    let mut left = limit.map(|n| usize::try_from(n).unwrap_or(usize::MAX));
    let mut json = out
        .json
        .then(|| JsonArray::new(BufWriter::new(std::io::stdout())));
    let mut printed = 0usize;
    let mut cut = false;
    loop {
        let size = left.map_or(PAGE, |n| n.min(PAGE));
        if size == 0 {
            cut = true;
            break;
        }
        let page = fetch(after.clone(), size).await?;
        let full = page.len() == size;
        if let Some(last) = page.last() {
            after = Some(key(last));
        }
        printed += page.len();
        if let Some(n) = left.as_mut() {
            *n -= page.len();
        }
        let written = match json.as_mut() {
            Some(array) => page
                .iter()
                .try_for_each(|item| array.push(&(render.json)(item)))
                .and_then(|()| array.flush()),
            None => {
                if !page.is_empty() {
                    out.table(render.header, page.iter().map(render.row).collect());
                }
                Ok(())
            }
        };
        if written.is_err() {
            // stdout is gone (`| head`): nobody reads the rest.
            return Ok(None);
        }
        if !full {
            break;
        }
    }
    match json {
        // A closed pipe is not an error worth reporting (as `Out::json`).
        Some(array) => drop(array.finish()),
        None if printed == 0 => out.table(render.header, Vec::new()),
        None => {}
    }
    if !cut {
        return Ok(None);
    }
    // Cut by the limit: is there more?
    let more = fetch(after.clone(), 1).await?;
    Ok(if more.is_empty() { None } else { after })
}

/// The stderr note that a listing cut by `--limit` continues with `--after KEY`.
pub(crate) fn note_more(out: Out, more: Option<impl std::fmt::Display>) {
    if let Some(key) = more {
        out.note(format!("More follow: add `--after {key}` to continue."));
    }
}

#[cfg(test)]
mod tests {
    use super::JsonArray;
    use serde_json::json;

    fn streamed(items: &[serde_json::Value]) -> String {
        let mut buf = Vec::new();
        let mut array = JsonArray::new(&mut buf);
        for item in items {
            array.push(item).unwrap();
        }
        array.finish().unwrap();
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn a_streamed_array_is_byte_for_byte_the_pretty_document() {
        let items = [
            json!({"id": "a", "nested": {"x": [1, 2, {"y": null}], "empty": [], "o": {}}}),
            json!({"text": "line\nbreak \"quoted\"", "n": 2.5}),
            json!([]),
            json!("plain"),
        ];
        for n in 0..=items.len() {
            let whole = serde_json::to_string_pretty(&json!(items[..n])).unwrap() + "\n";
            assert_eq!(streamed(&items[..n]), whole, "{n} items");
        }
    }
}
