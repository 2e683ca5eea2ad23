//! `finishline import-bill`: billed cost from the provider's side, for reconciliation.
//!
//! Formats read as they are documented:
//! - `focus`: a FOCUS CSV (FinOps Open Cost and Usage Specification 1.0 to 1.3): `BilledCost`
//!   in `BillingCurrency`, `ChargePeriodStart`/`End`, the provider from `ServiceProviderName`
//!   (1.3), `ProviderName`, `PublisherName` or `InvoiceIssuerName`, the model from `SkuMeter`,
//!   `x_SkuMeterName`, `x_UsageType` or `ResourceName` (or `--column model=...`), billed tokens
//!   from `ConsumedQuantity` when `ConsumedUnit` counts tokens. Only usage, credits and
//!   adjustments of the "AI and Machine Learning" service category are read (`--all-services`
//!   reads every category); taxes and purchases are skipped.
//! - `openai`: the OpenAI organisation Costs API's answer (`GET /v1/organization/costs`, one page,
//!   an array of pages or one page per line): `amount.value` in dollars, `line_item` carrying the
//!   model and its bucket ("gpt-4o-2024-08-06, input").
//! - `anthropic`: the Anthropic Admin API's cost report (`GET /v1/organizations/cost_report`):
//!   `amount` a decimal string in cents, `model` and `token_type` when grouped by description.
//!
//! The dashboards' CSV downloads are not documented by the providers; `openai-csv` and
//! `anthropic-csv` are column mappings for the headers those files are known to carry, and
//! `csv` reads any CSV through `--column field=Header` (see docs/reconciliation.md).
//!
//! Every line is keyed by its content and its place among identical lines of its file, so a
//! file imported again, or an export overlapping an earlier one, stores nothing twice.

use anyhow::{Context, bail};
use app::db::bill::{NewBillLine, insert_lines};
use app::db::{Db, now_ms};
use app::domain::Micros;
use app::domain::reconcile::{TokenType, model_key, split_token_type};
use app::domain::time::MS_PER_DAY;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::Path;

/// Lines per transaction.
const CHUNK: usize = 1_000;
/// The largest amount one billing line may carry, either sign: $1,000,000,000.
const MAX_LINE: i128 = 1_000_000_000_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Focus,
    Openai,
    Anthropic,
    OpenaiCsv,
    AnthropicCsv,
    Csv,
}

impl Format {
    /// How stored lines name their source.
    fn stored(self) -> &'static str {
        match self {
            Format::Focus => "focus",
            Format::Openai => "openai",
            Format::Anthropic => "anthropic",
            Format::OpenaiCsv | Format::AnthropicCsv | Format::Csv => "csv",
        }
    }

    /// The provider a format's lines belong to, when the format says.
    fn provider(self) -> Option<&'static str> {
        match self {
            Format::Openai | Format::OpenaiCsv => Some("openai"),
            Format::Anthropic | Format::AnthropicCsv => Some("anthropic"),
            Format::Focus | Format::Csv => None,
        }
    }
}

/// How to read a file.
#[derive(Clone, Debug)]
pub struct Options {
    pub format: Format,
    /// The provider the lines belong to, as calls name it (`openai`, `anthropic`...), over
    /// whatever the file says.
    pub provider: Option<String>,
    /// `field=Header` pairs naming a CSV column for a field.
    pub columns: Vec<(String, String)>,
    /// FOCUS: read every service category, not only AI and Machine Learning.
    pub all_services: bool,
}

/// One billing line read from a file, before it is keyed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Line {
    pub provider: String,
    pub model: String,
    pub token_type: Option<TokenType>,
    pub period_start: i64,
    pub period_end: i64,
    pub billed: Micros,
    pub tokens: Option<i64>,
    pub description: String,
}

/// What reading one record gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Read {
    Line(Line),
    /// Not a charge reconciliation compares (a tax, another service), with why.
    Skipped(String),
    /// A charge that cannot be read, with why.
    Refused(String),
}

/// What an import did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct BillSummary {
    pub lines: u64,
    pub stored: u64,
    pub unchanged: u64,
    pub skipped: u64,
    pub refused: u64,
    pub billed: Micros,
    /// Why lines were refused or skipped, with how often.
    pub reasons: std::collections::BTreeMap<String, u64>,
}

/// An amount written in decimal (or E notation, as FOCUS allows) in units of
/// `10^-shift` dollars (2 for cents), in micro-dollars rounded half away from zero.
pub fn parse_amount(text: &str, shift: i32) -> Result<Micros, String> {
    let text = text.trim();
    let refuse = || format!("'{text}' is not an amount");
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (
            &text[..at],
            text[at + 1..].parse::<i32>().map_err(|_| refuse())?,
        ),
        None => (text, 0),
    };
    let (negative, digits) = match mantissa.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, mantissa.strip_prefix('+').unwrap_or(mantissa)),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !all_digits(whole) || !all_digits(fraction) {
        return Err(refuse());
    }
    let significant = format!("{whole}{fraction}");
    let significant = significant.trim_start_matches('0');
    if significant.len() > 30 || !(-40..=40).contains(&exponent) {
        return Err(format!("'{text}' is past any plausible amount"));
    }
    let value: i128 = if significant.is_empty() {
        0
    } else {
        significant.parse().map_err(|_| refuse())?
    };
    // value × 10^(exponent - fraction digits + 6 - shift) micro-dollars.
    let power = exponent - fraction.len() as i32 + 6 - shift;
    let micros = if power >= 0 {
        10i128
            .checked_pow(power as u32)
            .and_then(|p| value.checked_mul(p))
            .ok_or_else(|| format!("'{text}' is past any plausible amount"))?
    } else if -power > 38 {
        0
    } else {
        let divisor = 10i128.pow((-power) as u32);
        (value + divisor / 2) / divisor
    };
    if micros > MAX_LINE {
        return Err(format!(
            "'{text}' is over $1,000,000,000, more than one billing line plausibly carries"
        ));
    }
    Ok(Micros(if negative { -micros } else { micros } as i64))
}

/// A time as bills write it: RFC 3339, `YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS` (UTC), or Unix
/// seconds; epoch milliseconds.
pub fn parse_time(text: &str) -> Option<i64> {
    let text = text.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        let seconds: i64 = text.parse().ok()?;
        return seconds.checked_mul(1_000);
    }
    if text.len() == 10 {
        return app::domain::time::parse_day(text).map(|day| day * MS_PER_DAY);
    }
    if text.len() == 19 {
        return crate::ingest::wire::parse_rfc3339(&format!("{text}Z"));
    }
    crate::ingest::wire::parse_rfc3339(text)
}

/// A token count from a quantity in a unit that counts tokens ("Tokens", "1K tokens",
/// "1000_tokens", "1M Tokens"); none for other units.
fn tokens_in(quantity: &str, unit: &str) -> Option<i64> {
    let unit = unit.trim().to_lowercase();
    if !unit.contains("token") {
        return None;
    }
    let scale: i64 = if unit.starts_with("1m") || unit.contains("million") {
        1_000_000
    } else if unit.starts_with("1k") || unit.starts_with("1000") || unit.contains("thousand") {
        1_000
    } else {
        1
    };
    let micros = parse_amount(quantity, 0).ok()?;
    // parse_amount gives millionths: back to a whole count, rounded.
    let count = (i128::from(micros.0) * i128::from(scale) + 500_000) / 1_000_000;
    i64::try_from(count).ok().filter(|n| *n >= 0)
}

/// The line's period from a start and an optional end; a day when no end is given.
fn period(start: Option<&str>, end: Option<&str>) -> Result<(i64, i64), String> {
    let start_text = start.unwrap_or_default();
    let start = parse_time(start_text)
        .ok_or_else(|| format!("the charge period start '{start_text}' is not a time"))?;
    let end = match end.map(str::trim).filter(|e| !e.is_empty()) {
        Some(text) => parse_time(text)
            .ok_or_else(|| format!("the charge period end '{text}' is not a time"))?,
        None => start + MS_PER_DAY,
    };
    if end <= start {
        return Err("the charge period ends before it starts".into());
    }
    if end - start > 400 * MS_PER_DAY {
        return Err("a charge period longer than a year is not a billing line".into());
    }
    Ok((start, end))
}

fn check_currency(currency: Option<&str>) -> Result<(), String> {
    match currency.map(str::trim).unwrap_or("USD") {
        c if c.is_empty() || c.eq_ignore_ascii_case("USD") => Ok(()),
        other => Err(format!(
            "billed in {other}: Finishline keeps money in US dollars; export the bill in USD"
        )),
    }
}

/// A CSV's columns for each field, by preset and `--column` overrides.
struct Columns {
    headers: csv::StringRecord,
    /// field → candidate column names, first present wins.
    wanted: HashMap<&'static str, Vec<String>>,
}

const FIELDS: [&str; 11] = [
    "start",
    "end",
    "cost",
    "currency",
    "provider",
    "model",
    "token_type",
    "tokens",
    "unit",
    "description",
    "category",
];

impl Columns {
    fn new(format: Format, headers: csv::StringRecord, overrides: &[(String, String)]) -> Columns {
        let preset: &[(&str, &[&str])] = match format {
            Format::Focus => &[
                ("start", &["ChargePeriodStart"]),
                ("end", &["ChargePeriodEnd"]),
                ("cost", &["BilledCost"]),
                ("currency", &["BillingCurrency"]),
                (
                    "provider",
                    &[
                        "ServiceProviderName",
                        "ProviderName",
                        "PublisherName",
                        "InvoiceIssuerName",
                    ],
                ),
                (
                    "model",
                    &["SkuMeter", "x_SkuMeterName", "x_UsageType", "ResourceName"],
                ),
                ("tokens", &["ConsumedQuantity"]),
                ("unit", &["ConsumedUnit"]),
                ("description", &["ChargeDescription"]),
                ("category", &["ChargeCategory"]),
                ("service", &["ServiceCategory"]),
            ],
            Format::OpenaiCsv => &[
                ("start", &["start_time"]),
                ("end", &["end_time"]),
                ("cost", &["amount_value"]),
                ("currency", &["amount_currency"]),
                ("model", &["line_item"]),
                ("description", &["project_name", "project_id"]),
            ],
            Format::AnthropicCsv => &[
                ("start", &["usage_date_utc"]),
                ("cost", &["cost_usd"]),
                ("model", &["model"]),
                ("token_type", &["token_type"]),
                ("description", &["workspace", "description"]),
            ],
            _ => &[],
        };
        let mut wanted: HashMap<&'static str, Vec<String>> = HashMap::new();
        for (field, names) in preset {
            let field = FIELDS
                .iter()
                .chain(["service"].iter())
                .find(|f| *f == field);
            if let Some(field) = field {
                wanted.insert(field, names.iter().map(|n| (*n).to_owned()).collect());
            }
        }
        for (field, column) in overrides {
            if let Some(field) = FIELDS.iter().find(|f| **f == field.as_str()) {
                wanted.insert(field, vec![column.clone()]);
            }
        }
        Columns { headers, wanted }
    }

    fn index(&self, field: &str) -> Option<usize> {
        let names = self.wanted.get(field)?;
        names
            .iter()
            .find_map(|name| self.headers.iter().position(|h| h.trim() == name))
    }

    fn missing(&self, field: &str) -> Option<String> {
        self.index(field).is_none().then(|| {
            let names = self.wanted.get(field).cloned().unwrap_or_default();
            match names.as_slice() {
                [] => format!("no column is named for '{field}': pass --column {field}=HEADER"),
                names => format!(
                    "the file has no {} column for '{field}': pass --column {field}=HEADER",
                    names.join(" or ")
                ),
            }
        })
    }
}

/// Reads a CSV bill (FOCUS, a dashboard download, or any CSV through a column mapping).
pub fn read_csv(bytes: &[u8], options: &Options) -> anyhow::Result<Vec<Read>> {
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(bytes);
    let headers = reader.headers().context("reading the CSV header")?.clone();
    let columns = Columns::new(options.format, headers, &options.columns);
    for field in ["start", "cost"] {
        if let Some(problem) = columns.missing(field) {
            bail!("{problem}");
        }
    }
    if options.provider.is_none()
        && options.format.provider().is_none()
        && columns.index("provider").is_none()
    {
        bail!("say whose bill this is: pass --provider NAME (as calls name it, e.g. openai)");
    }
    let mut read = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                read.push(Read::Refused(format!("row {}: {e}", n + 2)));
                continue;
            }
        };
        let cell = |field: &str| columns.index(field).and_then(|i| record.get(i));
        read.push(
            read_record(&cell, options)
                .unwrap_or_else(|reason| Read::Refused(format!("row {}: {reason}", n + 2))),
        );
    }
    Ok(read)
}

fn read_record<'r>(
    cell: &dyn Fn(&str) -> Option<&'r str>,
    options: &Options,
) -> Result<Read, String> {
    if options.format == Format::Focus {
        if let Some(category) = cell("category").map(str::trim) {
            let charged = ["usage", "credit", "adjustment"];
            if !charged.iter().any(|c| category.eq_ignore_ascii_case(c)) {
                return Ok(Read::Skipped(format!(
                    "charge category {category} (only usage, credits and adjustments are reconciled)"
                )));
            }
        }
        let service = cell("service").map(str::trim);
        if let Some(service) = service.filter(|_| !options.all_services)
            && !service.eq_ignore_ascii_case("AI and Machine Learning")
        {
            return Ok(Read::Skipped(format!(
                "service category {service} (only AI and Machine Learning is read; --all-services reads every one)"
            )));
        }
    }
    check_currency(cell("currency"))?;
    let (period_start, period_end) = period(cell("start"), cell("end"))?;
    let cost = cell("cost").unwrap_or_default();
    let billed = parse_amount(cost, 0).map_err(|e| format!("cost: {e}"))?;
    let provider = options
        .provider
        .clone()
        .or_else(|| options.format.provider().map(str::to_owned))
        .or_else(|| cell("provider").map(|p| p.trim().to_lowercase()))
        .filter(|p| !p.is_empty())
        .ok_or("no provider: pass --provider NAME")?;
    let (model, from_model) = split_token_type(cell("model").unwrap_or_default());
    let token_type = cell("token_type").and_then(TokenType::named).or(from_model);
    let tokens = match (cell("tokens"), cell("unit")) {
        (Some(quantity), Some(unit)) if !quantity.trim().is_empty() => tokens_in(quantity, unit),
        _ => None,
    };
    Ok(Read::Line(Line {
        provider,
        model,
        token_type,
        period_start,
        period_end,
        billed,
        tokens,
        description: cell("description").unwrap_or_default().trim().to_owned(),
    }))
}

/// The pages of a provider API's answer: one page, an array of pages, or one page per line.
fn pages(bytes: &[u8]) -> anyhow::Result<Vec<Value>> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Array(pages)) => Ok(pages),
        Ok(page) => Ok(vec![page]),
        Err(whole) => bytes
            .split(|b| *b == b'\n')
            .filter(|line| !line.iter().all(u8::is_ascii_whitespace))
            .enumerate()
            .map(|(n, line)| {
                serde_json::from_slice(line)
                    .with_context(|| format!("line {}: not a JSON page ({whole})", n + 1))
            })
            .collect(),
    }
}

/// Reads the OpenAI Costs API's or the Anthropic cost report's answer.
pub fn read_api(bytes: &[u8], options: &Options) -> anyhow::Result<Vec<Read>> {
    let mut read = Vec::new();
    for (p, page) in pages(bytes)?.iter().enumerate() {
        let Some(buckets) = page.get("data").and_then(Value::as_array) else {
            bail!(
                "page {}: no 'data' list of buckets: is this the {} answer?",
                p + 1,
                match options.format {
                    Format::Openai => "OpenAI Costs API's (GET /v1/organization/costs)",
                    _ => "Anthropic cost report's (GET /v1/organizations/cost_report)",
                }
            );
        };
        for (b, bucket) in buckets.iter().enumerate() {
            let results = bucket.get("results").and_then(Value::as_array);
            for (r, result) in results.into_iter().flatten().enumerate() {
                let place = format!("page {}, bucket {}, result {}", p + 1, b + 1, r + 1);
                let line = match options.format {
                    Format::Openai => openai_result(bucket, result, options),
                    _ => anthropic_result(bucket, result, options),
                };
                read.push(match line {
                    Ok(line) => Read::Line(line),
                    Err(reason) => Read::Refused(format!("{place}: {reason}")),
                });
            }
        }
    }
    Ok(read)
}

fn text_of(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn openai_result(bucket: &Value, result: &Value, options: &Options) -> Result<Line, String> {
    let amount = result.get("amount").ok_or("no amount")?;
    check_currency(text_of(amount.get("currency")).as_deref())?;
    let value = text_of(amount.get("value")).ok_or("amount.value is missing")?;
    let billed = parse_amount(&value, 0).map_err(|e| format!("amount.value: {e}"))?;
    let start = text_of(bucket.get("start_time"));
    let end = text_of(bucket.get("end_time"));
    let (period_start, period_end) = period(start.as_deref(), end.as_deref())?;
    let line_item = text_of(result.get("line_item")).unwrap_or_default();
    let (model, token_type) = split_token_type(&line_item);
    let tokens = match (
        text_of(result.get("quantity")),
        text_of(result.get("quantity_unit")),
    ) {
        (Some(quantity), Some(unit)) => tokens_in(&quantity, &unit),
        _ => None,
    };
    Ok(Line {
        provider: options.provider.clone().unwrap_or_else(|| "openai".into()),
        model,
        token_type,
        period_start,
        period_end,
        billed,
        tokens,
        description: text_of(result.get("project_id")).unwrap_or_default(),
    })
}

fn anthropic_result(bucket: &Value, result: &Value, options: &Options) -> Result<Line, String> {
    check_currency(text_of(result.get("currency")).as_deref())?;
    let amount = text_of(result.get("amount")).ok_or("amount is missing")?;
    // The cost report gives cents as a decimal string.
    let billed = parse_amount(&amount, 2).map_err(|e| format!("amount: {e}"))?;
    let start = text_of(bucket.get("starting_at"));
    let end = text_of(bucket.get("ending_at"));
    let (period_start, period_end) = period(start.as_deref(), end.as_deref())?;
    let description = text_of(result.get("description")).unwrap_or_default();
    Ok(Line {
        provider: options
            .provider
            .clone()
            .unwrap_or_else(|| "anthropic".into()),
        model: text_of(result.get("model")).unwrap_or_default(),
        token_type: text_of(result.get("token_type"))
            .as_deref()
            .and_then(TokenType::named),
        period_start,
        period_end,
        billed,
        tokens: None,
        description,
    })
}

/// Reads `bytes` in the chosen format.
pub fn read(bytes: &[u8], options: &Options) -> anyhow::Result<Vec<Read>> {
    match options.format {
        Format::Openai | Format::Anthropic => read_api(bytes, options),
        _ => read_csv(bytes, options),
    }
}

/// The lines to store, each keyed by its content and its place among identical lines.
fn keyed(format: Format, lines: Vec<Line>) -> Vec<NewBillLine> {
    let mut seen: HashMap<String, u64> = HashMap::new();
    lines
        .into_iter()
        .map(|line| {
            let content = serde_json::json!([
                format.stored(),
                line.provider,
                line.model,
                line.token_type.map(TokenType::as_str),
                line.period_start,
                line.period_end,
                line.billed.0,
                line.tokens,
                line.description,
            ])
            .to_string();
            let occurrence = seen.entry(content.clone()).or_default();
            *occurrence += 1;
            let key = hex::encode(Sha256::digest(format!("{content}#{occurrence}")));
            NewBillLine {
                line_key: key,
                format: format.stored(),
                model_key: model_key(&line.model),
                provider: line.provider,
                model: line.model,
                token_type: line.token_type.map_or("", TokenType::as_str),
                period_start: line.period_start,
                period_end: line.period_end,
                billed_micros: line.billed.0,
                tokens: line.tokens,
                description: line.description,
            }
        })
        .collect()
}

/// Imports a bill file, calling `progress(done, total)` after every chunk; audited as
/// `bill.import` with what it stored.
pub async fn import_bill(
    db: &Db,
    path: &Path,
    options: &Options,
    mut progress: impl FnMut(u64, u64),
) -> anyhow::Result<BillSummary> {
    let bytes = tokio::fs::read(path)
        .await
        .with_context(|| format!("reading {}", path.display()))?;
    let mut summary = BillSummary::default();
    let mut lines = Vec::new();
    for read in read(&bytes, options)? {
        match read {
            Read::Line(line) => lines.push(line),
            Read::Skipped(reason) => {
                summary.skipped += 1;
                *summary
                    .reasons
                    .entry(format!("skipped: {reason}"))
                    .or_default() += 1;
            }
            Read::Refused(reason) => {
                summary.refused += 1;
                // Reasons are counted without the row that gave them.
                let reason = reason.split_once(": ").map_or(reason.as_str(), |r| r.1);
                *summary.reasons.entry(reason.to_owned()).or_default() += 1;
            }
        }
    }
    summary.lines = (lines.len() as u64) + summary.skipped + summary.refused;
    let keyed = keyed(options.format, lines);
    let total = keyed.len() as u64;
    let file = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    progress(0, total);
    let mut done = 0;
    for chunk in keyed.chunks(CHUNK) {
        let mut tx = db.begin().await?;
        let stored = insert_lines(&mut tx, chunk, &file, now_ms()).await?;
        tx.commit().await?;
        summary.stored += stored;
        summary.unchanged += chunk.len() as u64 - stored;
        for line in chunk {
            summary.billed = summary
                .billed
                .checked_add(Micros(line.billed_micros))
                .map_err(|_| {
                    anyhow::anyhow!("the file's billed total is past what money can count")
                })?;
        }
        done += chunk.len() as u64;
        progress(done, total);
    }
    let mut tx = db.begin().await?;
    let after = serde_json::json!({
        "file": file, "format": options.format.stored(), "lines": summary.lines,
        "stored": summary.stored, "unchanged": summary.unchanged,
        "skipped": summary.skipped, "refused": summary.refused,
        "billed": app::views::format::plain_dollars(summary.billed),
    })
    .to_string();
    let entry = app::db::audit::NewAuditEntry {
        actor_user_id: None,
        actor: "finishline import-bill",
        action: "bill.import",
        entity: "bill",
        entity_id: &file,
        before: None,
        after: Some(&after),
        team_id: None,
    };
    app::db::audit::append(&mut tx, &entry, now_ms()).await?;
    tx.commit().await?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_read_exactly_and_rounded_to_the_micro_dollar() {
        assert_eq!(parse_amount("14820.00", 0), Ok(Micros(14_820_000_000)));
        assert_eq!(parse_amount("0.0000123456", 0), Ok(Micros(12)));
        assert_eq!(parse_amount("1.5E-3", 0), Ok(Micros(1_500)));
        assert_eq!(parse_amount("-2.25", 0), Ok(Micros(-2_250_000)));
        assert_eq!(parse_amount("123.45", 2), Ok(Micros(1_234_500)), "cents");
        assert_eq!(
            parse_amount("0.0000005", 0),
            Ok(Micros(1)),
            "half rounds up"
        );
        assert!(parse_amount("12,50", 0).is_err());
        assert!(parse_amount("1e40", 0).is_err());
        assert!(
            parse_amount("2000000000", 0)
                .unwrap_err()
                .contains("over $1,000,000,000")
        );
    }

    #[test]
    fn times_and_token_units_are_read_as_bills_write_them() {
        let day = 20_393 * MS_PER_DAY;
        assert_eq!(parse_time("2025-11-01"), Some(day));
        assert_eq!(parse_time("2025-11-01T00:00:00Z"), Some(day));
        assert_eq!(parse_time("2025-11-01 00:00:00"), Some(day));
        assert_eq!(parse_time("1761955200"), Some(day));
        assert_eq!(tokens_in("1500", "Tokens"), Some(1_500));
        assert_eq!(tokens_in("2.5", "1K tokens"), Some(2_500));
        assert_eq!(tokens_in("3", "1M Tokens"), Some(3_000_000));
        assert_eq!(tokens_in("3", "Hours"), None);
    }
}
