//! Words of the `reproduce:` commands, quoted for POSIX shells.
//!
//! A reproduce line is meant to be pasted into a shell, so a path with a
//! space, a `$` or a quote must come back as the same single argument.
//! Plain words (the usual paths, seeds, variant names) are left bare, so the
//! common case reads as typed.

use std::borrow::Cow;

/// `word` as one POSIX shell argument: unchanged when every character is
/// safe unquoted, else in single quotes, an embedded `'` written `'\''`.
pub fn quote(word: &str) -> Cow<'_, str> {
    if !word.is_empty() && word.chars().all(is_plain) {
        return Cow::Borrowed(word);
    }
    Cow::Owned(format!("'{}'", word.replace('\'', r"'\''")))
}

/// Characters no common shell gives a meaning to inside an argument. `=`
/// is left out: zsh expands a word starting with it.
fn is_plain(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_-+:,./@%".contains(c)
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn plain_words_stay_bare_and_the_rest_is_single_quoted() {
        assert_eq!(quote("scenarios/mm1.yaml"), "scenarios/mm1.yaml");
        assert_eq!(quote("-"), "-");
        assert_eq!(quote("100/s,200/s"), "100/s,200/s");
        assert_eq!(quote("my runs/a b.yaml"), "'my runs/a b.yaml'");
        assert_eq!(quote("it's.yaml"), r"'it'\''s.yaml'");
        assert_eq!(quote("$HOME;rm"), "'$HOME;rm'");
        assert_eq!(quote("exp(mean=5ms)"), "'exp(mean=5ms)'");
        assert_eq!(quote("~/x"), "'~/x'");
        assert_eq!(quote(""), "''");
    }
}
