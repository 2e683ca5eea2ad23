//! Short names that appear in addresses and the API (workflows, teams, task types): parsed once
//! at the edge, so code that holds a [`Slug`] knows it is well formed.

use serde::{Deserialize, Serialize};

/// The longest a slug may be, in characters.
pub const MAX_SLUG_LEN: usize = 64;

/// 1 to [`MAX_SLUG_LEN`] lower-case ASCII letters, digits or dashes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Slug(String);

/// Why a text is not a slug, in words fit to show next to the field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("must be 1 to 64 lower-case letters, digits or dashes")]
pub struct NotASlug;

impl Slug {
    /// The slug in `text`, surrounding spaces ignored.
    pub fn parse(text: &str) -> Result<Slug, NotASlug> {
        let text = text.trim();
        let valid = !text.is_empty()
            && text.len() <= MAX_SLUG_LEN
            && text
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        valid.then(|| Slug(text.to_owned())).ok_or(NotASlug)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl AsRef<str> for Slug {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Slug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Slug {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Slug, D::Error> {
        let text = String::deserialize(deserializer)?;
        Slug::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_name_of_letters_digits_and_dashes_is_a_slug_once_trimmed() {
        assert_eq!(
            Slug::parse(" support-triage ").unwrap().as_str(),
            "support-triage"
        );
        assert_eq!(Slug::parse("v2").unwrap().to_string(), "v2");
        assert!(Slug::parse(&"a".repeat(MAX_SLUG_LEN)).is_ok());
    }

    #[test]
    fn capitals_spaces_underscores_and_empty_names_are_refused() {
        for bad in [
            "",
            "  ",
            "Support",
            "two words",
            "under_score",
            "é",
            &"a".repeat(65),
        ] {
            assert_eq!(Slug::parse(bad), Err(NotASlug), "{bad:?}");
        }
    }

    #[test]
    fn a_slug_cannot_be_smuggled_in_through_json() {
        assert!(serde_json::from_str::<Slug>("\"ok-1\"").is_ok());
        assert!(serde_json::from_str::<Slug>("\"Not OK\"").is_err());
    }
}
