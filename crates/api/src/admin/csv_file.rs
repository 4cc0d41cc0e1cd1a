//! Files a manager downloads, made to open right in a spreadsheet, Russian Excel included:
//! UTF-8 with a byte order mark (without one Excel reads the bytes as Windows-1251), `;`
//! between fields (Excel in a Russian locale splits on `;`, as `,` is its decimal separator),
//! and a file name with the program's name and the date instead of an id.

use crate::AppState;
use crate::error::ApiError;
use axum::http::header::{self, HeaderName};
use chrono::Utc;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

const BYTE_ORDER_MARK: &[u8] = b"\xEF\xBB\xBF";

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Separator {
    /// What Excel expects in Russian and most European locales.
    #[default]
    Semicolon,
    Comma,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HeaderLanguage {
    #[default]
    En,
    Ru,
}

/// How a CSV file is written.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CsvOptions {
    /// `semicolon` (default) or `comma`.
    #[param(inline)]
    pub separator: Option<Separator>,
    /// Language of the header row: `en` (default) or `ru`.
    #[param(inline)]
    pub lang: Option<HeaderLanguage>,
}

/// A CSV file being written, handed out in pieces ([`CsvFile::take`]) so a long export streams.
pub struct CsvFile {
    writer: csv::Writer<Vec<u8>>,
    delimiter: u8,
    language: HeaderLanguage,
    file_name: String,
}

impl CsvFile {
    /// A file of `what` (`members`, `audit-log`) of a program, named
    /// `<program name>-<what>-<date>.csv` with the date in the program's time zone.
    pub async fn new(
        state: &AppState,
        program_id: Uuid,
        what: &str,
        options: CsvOptions,
    ) -> Result<CsvFile, ApiError> {
        let programs = app::reads::programs(state.ledger().store()).await?;
        let program = programs.iter().find(|p| p.program_id == program_id);
        let today = match program.and_then(|p| p.time_zone.parse::<chrono_tz::Tz>().ok()) {
            Some(zone) => Utc::now().with_timezone(&zone).date_naive(),
            None => Utc::now().date_naive(),
        };
        let name = program.map_or("program", |p| p.name.as_str());
        let delimiter = match options.separator.unwrap_or_default() {
            Separator::Semicolon => b';',
            Separator::Comma => b',',
        };
        Ok(CsvFile {
            writer: writer(delimiter, BYTE_ORDER_MARK.to_vec()),
            delimiter,
            language: options.lang.unwrap_or_default(),
            file_name: format!("{name}-{what}-{today}.csv"),
        })
    }

    /// The response headers: a UTF-8 CSV attachment under the file's name (RFC 6266: an ASCII
    /// fallback for old clients, the full name percent-encoded for the rest).
    pub fn headers(&self) -> [(HeaderName, String); 2] {
        let fallback: String = self
            .file_name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let encoded = utf8_percent_encode(&self.file_name, NON_ALPHANUMERIC);
        let disposition =
            format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}");
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ]
    }

    /// The header row: each column as `(English, Russian)`.
    pub fn header_row(&mut self, columns: &[(&str, &str)]) -> Result<(), ApiError> {
        let names = columns.iter().map(|(en, ru)| match self.language {
            HeaderLanguage::En => *en,
            HeaderLanguage::Ru => *ru,
        });
        self.writer.write_record(names).map_err(ApiError::internal)
    }

    /// One row. A text starting with `=`, `+`, `-` or `@` that is not a number gets a leading
    /// `'`, so a spreadsheet shows it instead of running it as a formula.
    pub fn row<S: AsRef<str>>(&mut self, fields: &[S]) -> Result<(), ApiError> {
        let fields = fields.iter().map(|f| defused(f.as_ref()).into_owned());
        self.writer.write_record(fields).map_err(ApiError::internal)
    }

    /// What was written since the last call.
    pub fn take(&mut self) -> Result<Vec<u8>, ApiError> {
        let written = std::mem::replace(&mut self.writer, writer(self.delimiter, Vec::new()));
        written
            .into_inner()
            .map_err(|e| ApiError::internal(e.error()))
    }
}

fn writer(delimiter: u8, start: Vec<u8>) -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .delimiter(delimiter)
        .from_writer(start)
}

fn defused(field: &str) -> std::borrow::Cow<'_, str> {
    if field.starts_with(['=', '+', '-', '@']) && field.parse::<f64>().is_err() {
        format!("'{field}").into()
    } else {
        field.into()
    }
}

#[cfg(test)]
mod tests {
    use super::defused;

    #[test]
    fn formulas_are_defused_and_numbers_kept() {
        assert_eq!(defused("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(defused("@anna"), "'@anna");
        assert_eq!(defused("-50"), "-50");
        assert_eq!(defused("+7"), "+7");
        assert_eq!(defused("Анна"), "Анна");
    }
}
