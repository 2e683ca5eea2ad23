//! Formatting shared by pages, server functions and CSV exports: exact values for form fields
//! and links (the figures' display formats live beside their types in `domain`).

use crate::domain::Micros;

/// Dollars exactly as stored, for a form field: "0.4" becomes "0.40".
pub fn plain_dollars(amount: Micros) -> String {
    let sign = if amount.0 < 0 { "-" } else { "" };
    let abs = amount.0.unsigned_abs();
    let fraction = format!("{:06}", abs % 1_000_000);
    let fraction = fraction.trim_end_matches('0');
    format!("{sign}{}.{fraction:0<2}", abs / 1_000_000)
}

/// Basis points as a percentage for a form field: 9250 becomes "92.5".
pub fn plain_percent(bp: i64) -> String {
    match bp % 100 {
        0 => (bp / 100).to_string(),
        rest if rest % 10 == 0 => format!("{}.{}", bp / 100, rest / 10),
        rest => format!("{}.{rest:02}", bp / 100),
    }
}

/// Milliseconds as the seconds a person types: "8", "2.5", "0.125".
pub fn plain_seconds(ms: i64) -> String {
    let text = format!("{}.{:03}", ms / 1_000, ms % 1_000);
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// A count with thousands separators: 5202 becomes "5,202".
pub fn count(n: impl Into<i128>) -> String {
    let n: i128 = n.into();
    let sign = if n < 0 { "-" } else { "" };
    let abs = u64::try_from(n.unsigned_abs()).unwrap_or(u64::MAX);
    format!("{sign}{}", crate::domain::money::group_thousands(abs))
}

/// Percent-encodes a query parameter value.
pub fn encode_query_value(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Dollars with a typographic minus sign when negative: "−$1.20".
pub fn dollars(amount: Micros) -> String {
    match amount.0 {
        n if n < 0 => format!("−{}", Micros(n.saturating_abs())),
        _ => amount.to_string(),
    }
}

/// Net savings against the human baseline, signed, or why there are none.
pub fn net_savings(savings: &crate::report::savings::Savings) -> String {
    if !savings.is_covered() {
        return "no baseline".to_owned();
    }
    match savings.net() {
        Ok(net) if net.0 >= 0 => format!("+{net}"),
        Ok(net) => dollars(net),
        Err(_) => "cannot be counted".to_owned(),
    }
}

/// What the savings column rests on, in words.
pub fn savings_sentence(savings: &crate::report::savings::Savings) -> String {
    if !savings.is_covered() {
        return "Net savings: no task type has a human baseline yet. Give one (the minutes a person takes to do such a task unaided) on a workflow's page to see what the AI work saves.".to_owned();
    }
    let hours = count((savings.seconds_saved() as f64 / 3_600.0).round() as i64);
    let ratio = savings
        .ratio()
        .map(|r| format!(", {r:.1}× the AI cost"))
        .unwrap_or_default();
    let sources = if savings.sources.is_empty() {
        String::new()
    } else {
        format!(
            " Baselines from: {}.",
            savings
                .sources
                .iter()
                .cloned()
                .collect::<Vec<_>>()
                .join("; ")
        )
    };
    let reference = savings
        .reference_equivalent
        .map(|r| {
            format!(" An outcome-priced vendor would have charged {r} for the same successes.")
        })
        .unwrap_or_default();
    format!(
        "Net savings against the human baseline: {}. The succeeded tasks would have taken people {} hours ({hours} saved after review and repair time), {} at the loaded hourly rates{ratio}, against {} of AI cost, failed attempts and review included. {} of {} task types with tasks have a baseline.{sources}{reference}",
        net_savings(savings),
        crate::domain::money::group_thousands((savings.human_seconds / 3_600).max(0) as u64),
        savings.human_equivalent,
        savings.ai_cost,
        savings.covered_task_types.len(),
        savings.task_types.len(),
    )
}

/// A success rate with its 95% interval and the tasks behind it: `92.1% (95% interval
/// 88.0%-95.0%, 412 tasks)`.
pub fn interval(rate: crate::domain::cpst::Proportion) -> String {
    format!(
        "{} (95% interval {}–{}, {} tasks)",
        crate::domain::cpst::percent(rate.value),
        crate::domain::cpst::percent(rate.lower),
        crate::domain::cpst::percent(rate.upper),
        crate::domain::money::group_thousands(rate.trials)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_values_are_exact() {
        assert_eq!(plain_dollars(Micros(400_000)), "0.40");
        assert_eq!(plain_dollars(Micros(1_234_567)), "1.234567");
        assert_eq!(plain_dollars(Micros(12_000_000)), "12.00");
        assert_eq!(plain_percent(9_250), "92.5");
        assert_eq!(plain_percent(500), "5");
        assert_eq!(plain_percent(1_005), "10.05");
    }

    #[test]
    fn counts_have_separators() {
        assert_eq!(count(5_202_u64), "5,202");
        assert_eq!(count(-1_234_567_i64), "-1,234,567");
        assert_eq!(count(12_u32), "12");
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(encode_query_value("/?days=90&x=1"), "/%3Fdays%3D90%26x%3D1");
    }
}
