//! Text in the two places where Leptos's server renderer does not escape it: the document
//! `<title>` (written by `leptos_meta` as it is) and a `<textarea>` body (its children are
//! written raw). A value holding `</textarea>` or `</title>` would end the element there and
//! the rest would become markup, so every value bound for those elements goes through here:
//! the title through the one formatter of [`crate::App`], textareas through [`TextArea`].
//! Charts need nothing: ECharts draws their labels on a canvas, and Leptos writes the data the
//! browser picks up with `<` escaped.

use leptos::prelude::*;

/// `text` with `&`, `<` and `>` written as character references. In `<title>` and
/// `<textarea>` (RCDATA elements) browsers read them back as the same characters, and nothing
/// inside can close the element.
pub fn escape_rcdata(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            _ => escaped.push(c),
        }
    }
    escaped
}

/// The body of a `<title>` or `<textarea>`: escaped where the server writes HTML, as it is in
/// the browser, which sets text without parsing it.
pub fn rcdata(text: String) -> String {
    if cfg!(feature = "ssr") {
        escape_rcdata(&text)
    } else {
        text
    }
}

/// The document title for a page's own title (`Finishline` alone when it has none).
pub fn document_title(page: String) -> String {
    rcdata(if page.is_empty() {
        "Finishline".to_owned()
    } else {
        format!("{page} · Finishline")
    })
}

/// A multi-line text input whose first value is `value`, whatever it holds.
#[component]
pub fn TextArea(
    name: &'static str,
    rows: u8,
    maxlength: u32,
    #[prop(optional)] required: bool,
    #[prop(optional)] placeholder: Option<&'static str>,
    #[prop(into)] value: String,
) -> impl IntoView {
    view! {
        <textarea name=name rows=rows maxlength=maxlength required=required placeholder=placeholder>{rcdata(value)}</textarea>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_in_a_title_or_textarea_can_close_it() {
        let hostile = "</title></textarea><meta http-equiv=\"refresh\" content=\"0\">&amp;";
        let escaped = escape_rcdata(hostile);
        assert!(
            !escaped.contains('<') && !escaped.contains('>'),
            "{escaped}"
        );
        assert_eq!(
            escaped,
            "&lt;/title&gt;&lt;/textarea&gt;&lt;meta http-equiv=\"refresh\" content=\"0\"&gt;&amp;amp;"
        );
        assert_eq!(escape_rcdata("Support · triage"), "Support · triage");
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn the_server_writes_page_titles_escaped() {
        assert_eq!(document_title(String::new()), "Finishline");
        assert_eq!(
            document_title("Task </title>".into()),
            "Task &lt;/title&gt; · Finishline"
        );
    }
}
