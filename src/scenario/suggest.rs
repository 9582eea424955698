//! "Did you mean …?" for misspelled keys, keywords and component names.

/// The candidate closest to `word`, if it is close enough to be a likely typo.
///
/// Closeness is the normalised Damerau–Levenshtein similarity, so a swapped
/// pair of letters counts as one mistake. Ties go to the earlier candidate,
/// which keeps the suggestion deterministic.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let mut best: Option<(&str, f64)> = None;
    for candidate in candidates {
        let score = strsim::normalized_damerau_levenshtein(word, candidate);
        let prefix = candidate.starts_with(word) || word.starts_with(candidate);
        let close = score >= 0.6 || (prefix && !word.is_empty());
        if close && best.is_none_or(|(_, best_score)| score > best_score) {
            best = Some((candidate, score));
        }
    }
    best.map(|(candidate, _)| candidate)
}

/// At most this many names are listed when none is close to a misspelling:
/// a scenario with thousands of components must not print them all in every
/// message (the output would grow with the square of the file).
pub const MAX_LISTED_NAMES: usize = 8;

/// The names to show when `word` matches none closely: all of them when there
/// are few, else the [`MAX_LISTED_NAMES`] most similar and how many others.
pub fn listed_names<'a>(word: &str, names: impl IntoIterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.into_iter().collect();
    if names.len() <= MAX_LISTED_NAMES {
        return names.join(", ");
    }
    let mut scored: Vec<(usize, f64)> = names
        .iter()
        .enumerate()
        .map(|(index, name)| (index, strsim::normalized_damerau_levenshtein(word, name)))
        .collect();
    // Most similar first; file order among equals, so the text is the same every run.
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let shown: Vec<&str> = scored[..MAX_LISTED_NAMES]
        .iter()
        .map(|&(index, _)| names[index])
        .collect();
    format!(
        "{} and {} more",
        shown.join(", "),
        names.len() - MAX_LISTED_NAMES
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_words_only() {
        let keys = ["workers", "queue", "service_time", "error_rate", "calls"];
        assert_eq!(did_you_mean("wokers", keys), Some("workers"));
        assert_eq!(did_you_mean("servce_time", keys), Some("service_time"));
        assert_eq!(did_you_mean("erorr_rate", keys), Some("error_rate"));
        assert_eq!(did_you_mean("call", keys), Some("calls"));
        assert_eq!(did_you_mean("zebra", keys), None);
    }

    #[test]
    fn long_lists_show_the_nearest_few() {
        let names: Vec<String> = (0..1000).map(|i| format!("service-{i}")).collect();
        let listed = listed_names("service-7x", names.iter().map(String::as_str));
        assert!(listed.starts_with("service-7, "), "{listed}");
        assert!(listed.ends_with(" and 992 more"), "{listed}");
        assert_eq!(listed_names("x", ["a", "b"]), "a, b");
    }
}
