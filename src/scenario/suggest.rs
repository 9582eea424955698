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
}
