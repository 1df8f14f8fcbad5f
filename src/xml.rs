//! Text for XML, which the output layer (SVG, HTML) and `check` (JUnit) both write.

/// `text` with markup characters escaped and control characters (not allowed in XML 1.0)
/// as spaces.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() && c != '\n' && c != '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn markup_and_control_characters_are_made_safe() {
        assert_eq!(
            super::escape("a<b & 'c'\u{1}\"d\">\n"),
            "a&lt;b &amp; &apos;c&apos; &quot;d&quot;&gt;\n"
        );
    }
}
