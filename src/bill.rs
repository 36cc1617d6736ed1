//! Reading a downloaded bill file as it streams in: WeChat Pay's bills are UTF-8 CSV with CRLF line
//! ends, a line of column names, the data lines, then a second line of column names and one summary
//! line. Every value of a data line is written with a back-quote in front (so that spreadsheets keep
//! long numbers as text): `` `2024-03-01 08:00:00,`wx…,`1900000109,… ``.
//!
//! [`BillParser`] takes the bytes in chunks of any size (as [`BillStream`](crate::BillStream)
//! yields them) and holds one line at a time, at most [`MAX_LINE`] bytes, so a bill of any size is
//! read in constant memory. Written by hand: the `csv` crate would read the layout, but not tell the
//! two sections apart nor strip the back-quotes, and both are most of the work.
//!
//! ```no_run
//! # async fn run(client: wechatpay::Client, bill: wechatpay::BillFile) -> Result<(), wechatpay::Error> {
//! use wechatpay::bill::{BillParser, Section};
//! let mut stream = client.download_bill_stream(bill).await?;
//! let mut parser = BillParser::new();
//! let mut rows = Vec::new();
//! while let Some(chunk) = stream.next_chunk().await {
//!     parser.push(&chunk?, &mut rows)?;
//!     for row in rows.drain(..).filter(|row| row.section == Section::Details) {
//!         let _ = row.fields; // one transaction, in the order of `parser.columns()`
//!     }
//! }
//! parser.finish(&mut rows)?; // the digest was checked as the stream ended
//! # Ok(()) }
//! ```

/// The longest line a bill may have, in bytes (a trade bill's line is a few hundred).
pub const MAX_LINE: usize = 64 * 1024;

/// Which part of the bill a row belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    /// A transaction (or fund flow) line, under the first column names.
    Details,
    /// The totals line, under the second column names.
    Summary,
}

/// One data line of a bill, its values without their back-quotes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BillRow {
    /// Which part of the bill it is in.
    pub section: Section,
    /// Its line number in the file (1-based).
    pub line: usize,
    /// Its values, in the order of the section's column names.
    pub fields: Vec<String>,
}

/// Why a bill file does not read. Holds positions, never values.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BillError {
    /// A line longer than [`MAX_LINE`].
    #[error("bill line {line} is longer than {MAX_LINE} bytes")]
    LineTooLong {
        /// The line number (1-based).
        line: usize,
    },
    /// A line that is not UTF-8.
    #[error("bill line {line} is not UTF-8")]
    NotUtf8 {
        /// The line number (1-based).
        line: usize,
    },
    /// A data line before any column names.
    #[error("bill line {line} has values before any column names")]
    NoColumns {
        /// The line number (1-based).
        line: usize,
    },
    /// A third line of column names.
    #[error("bill line {line} is a third line of column names")]
    ExtraColumns {
        /// The line number (1-based).
        line: usize,
    },
    /// A data line with another number of values than its section has columns.
    #[error("bill line {line} has {found} values for {expected} columns")]
    FieldCount {
        /// The line number (1-based).
        line: usize,
        /// The number of columns.
        expected: usize,
        /// The number of values.
        found: usize,
    },
}

/// Reads a bill file from chunks; see the [module documentation](self).
#[derive(Debug, Default)]
pub struct BillParser {
    /// The bytes of the line being read.
    partial: Vec<u8>,
    /// The number of lines completed.
    lines: usize,
    columns: Option<Vec<String>>,
    summary_columns: Option<Vec<String>>,
    /// Set once an error was returned: every later call returns it again.
    failed: Option<BillError>,
}

impl BillParser {
    /// A parser at the start of a file.
    pub fn new() -> Self {
        Self::default()
    }

    /// The column names of the details, once read.
    pub fn columns(&self) -> Option<&[String]> {
        self.columns.as_deref()
    }

    /// The column names of the summary, once read.
    pub fn summary_columns(&self) -> Option<&[String]> {
        self.summary_columns.as_deref()
    }

    /// Reads `chunk`, appending the rows it completes to `rows`.
    pub fn push(&mut self, mut chunk: &[u8], rows: &mut Vec<BillRow>) -> Result<(), BillError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        while let Some(end) = chunk.iter().position(|byte| *byte == b'\n') {
            let result = self.extend(&chunk[..end]).and_then(|()| self.complete_line(rows));
            self.remember(result)?;
            chunk = &chunk[end + 1..];
        }
        let result = self.extend(chunk);
        self.remember(result)
    }

    /// Reads the last line (a file need not end with a line break). Call it once, at the end.
    pub fn finish(&mut self, rows: &mut Vec<BillRow>) -> Result<(), BillError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        if self.partial.is_empty() {
            return Ok(());
        }
        let result = self.complete_line(rows);
        self.remember(result)
    }

    fn remember(&mut self, result: Result<(), BillError>) -> Result<(), BillError> {
        if let Err(error) = &result {
            self.failed = Some(error.clone());
        }
        result
    }

    fn extend(&mut self, bytes: &[u8]) -> Result<(), BillError> {
        if self.partial.len() + bytes.len() > MAX_LINE {
            return Err(BillError::LineTooLong { line: self.lines + 1 });
        }
        self.partial.extend_from_slice(bytes);
        Ok(())
    }

    fn complete_line(&mut self, rows: &mut Vec<BillRow>) -> Result<(), BillError> {
        self.lines += 1;
        let line = self.lines;
        let bytes = std::mem::take(&mut self.partial);
        let text = std::str::from_utf8(&bytes).map_err(|_| BillError::NotUtf8 { line })?;
        let text = text.strip_suffix('\r').unwrap_or(text);
        let text = if line == 1 { text.strip_prefix('\u{feff}').unwrap_or(text) } else { text };
        if text.trim().is_empty() {
            return Ok(());
        }
        let Some(values) = text.strip_prefix('`') else {
            let names = Some(text.split(',').map(str::to_owned).collect());
            match (&self.columns, &self.summary_columns) {
                (None, _) => self.columns = names,
                (Some(_), None) => self.summary_columns = names,
                (Some(_), Some(_)) => return Err(BillError::ExtraColumns { line }),
            }
            return Ok(());
        };
        let (section, columns) = match (&self.columns, &self.summary_columns) {
            (_, Some(columns)) => (Section::Summary, columns),
            (Some(columns), None) => (Section::Details, columns),
            (None, None) => return Err(BillError::NoColumns { line }),
        };
        let fields: Vec<String> = values.split(",`").map(str::to_owned).collect();
        if fields.len() != columns.len() {
            return Err(BillError::FieldCount { line, expected: columns.len(), found: fields.len() });
        }
        rows.push(BillRow { section, line, fields });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BILL: &str = "\u{feff}交易时间,商户订单号,金额\r\n`2024-03-01 08:00:00,`A1,`1.00\r\n`2024-03-01 09:00:00,`A,2,`2.00\r\n总笔数,总金额\r\n`2,`3.00\r\n";

    fn read(chunks: &[&[u8]]) -> (Result<(), BillError>, Vec<BillRow>, BillParser) {
        let mut parser = BillParser::new();
        let mut rows = Vec::new();
        let result = chunks.iter().try_for_each(|chunk| parser.push(chunk, &mut rows));
        let result = result.and_then(|()| parser.finish(&mut rows));
        (result, rows, parser)
    }

    #[test]
    fn sections_values_and_columns_are_read_whatever_the_chunks() {
        let whole = read(&[BILL.as_bytes()]);
        assert_eq!(whole.0, Ok(()));
        assert_eq!(whole.2.columns().unwrap(), ["交易时间", "商户订单号", "金额"]);
        assert_eq!(whole.2.summary_columns().unwrap(), ["总笔数", "总金额"]);
        let rows = &whole.1;
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[1].fields, ["2024-03-01 09:00:00", "A,2", "2.00"], "a comma inside a value stays");
        assert_eq!((rows[2].section, rows[2].line), (Section::Summary, 5));
        let bytes = BILL.as_bytes();
        for size in [1, 2, 3, 7, 64] {
            let chunks: Vec<&[u8]> = bytes.chunks(size).collect();
            assert_eq!(read(&chunks).1, whole.1, "chunks of {size}");
        }
    }

    #[test]
    fn malformed_bills_are_errors_with_their_line() {
        let errors: [(&[u8], BillError); 4] = [
            (b"`1,`2\n", BillError::NoColumns { line: 1 }),
            (b"a,b\n`1\n", BillError::FieldCount { line: 2, expected: 2, found: 1 }),
            (b"a\nb\nc\n", BillError::ExtraColumns { line: 3 }),
            (b"a\n`\xC3\xff\n", BillError::NotUtf8 { line: 2 }),
        ];
        for (bytes, expected) in errors {
            assert_eq!(read(&[bytes]).0, Err(expected), "{:?}", String::from_utf8_lossy(bytes));
        }
        let long = vec![b'a'; MAX_LINE + 1];
        assert_eq!(read(&[&long[..10], &long[10..]]).0, Err(BillError::LineTooLong { line: 1 }));
    }
}
