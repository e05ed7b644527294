//! The order host-where sorts and compares text facts in: version order, so that `kernel<6.1`,
//! `bios_version<2.19.1` and `docker.ServerVersion<24` mean what they say.
//!
//! The order is rpm's idea of a version, built as a sort key rather than a comparison function,
//! so that it is a total order by construction whatever a host reports (a comparator that is not
//! one makes Rust's sort panic): runs of digits compare as numbers and above runs of letters,
//! letters compare as bytes, other characters only separate, `~` sorts before everything (a
//! pre-release, `1.0~rc1 < 1.0`), and a version that goes on is newer than one that stops
//! (`6.1.0 > 6.1`).

use std::cmp::Ordering;

/// One segment of a version, in the order segments compare in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Segment<'a> {
    Tilde,
    /// The end of a version: after a tilde, before anything else.
    End,
    Alpha(&'a [u8]),
    /// Digits without leading zeros: the longer is the larger, then byte order.
    Number(usize, &'a [u8]),
}

/// A text's key in version order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct VersionKey<'a>(Vec<Segment<'a>>);

impl<'a> VersionKey<'a> {
    pub fn of(text: &'a str) -> VersionKey<'a> {
        let b = text.as_bytes();
        let mut segments = Vec::new();
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            if c == b'~' {
                segments.push(Segment::Tilde);
                i += 1;
            } else if c.is_ascii_digit() {
                let start = i;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                let digits = &b[start..i];
                let zeros = digits.iter().take_while(|&&d| d == b'0').count();
                let digits = &digits[zeros..];
                segments.push(Segment::Number(digits.len(), digits));
            } else if c.is_ascii_alphabetic() {
                let start = i;
                while i < b.len() && b[i].is_ascii_alphabetic() {
                    i += 1;
                }
                segments.push(Segment::Alpha(&b[start..i]));
            } else {
                i += 1;
            }
        }
        segments.push(Segment::End);
        VersionKey(segments)
    }
}

/// Version order, then byte order between texts the version order cannot tell apart (`1.0`
/// and `1.00`): a total order, for sorting.
pub fn sort_cmp(a: &str, b: &str) -> Ordering {
    VersionKey::of(a)
        .cmp(&VersionKey::of(b))
        .then_with(|| a.cmp(b))
}

/// Version order alone, for `<`, `<=`, `>`, `>=`.
pub fn version_cmp(a: &str, b: &str) -> Ordering {
    VersionKey::of(a).cmp(&VersionKey::of(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    #[test]
    fn orders_like_versions() {
        for (a, b, want) in [
            ("6.1.0-26-amd64", "6.1", Greater),
            ("5.10.0-28-amd64", "6.1", Less),
            ("6.0.12", "6.1", Less),
            ("2.18.0", "2.19.1", Less),
            ("2.19.1", "2.19.1", Equal),
            ("20.10.24", "24", Less),
            ("24.0.7", "24", Greater),
            ("12", "12", Equal),
            ("11", "12", Less),
            ("9", "10", Less),
            ("1.0~rc1", "1.0", Less),
            ("1.0", "1.0a", Less),
            ("1.a", "1.1", Less),
            ("007", "7", Equal),
            ("debian", "ubuntu", Less),
            ("", "0", Less),
        ] {
            assert_eq!(version_cmp(a, b), want, "{a} vs {b}");
            assert_eq!(version_cmp(b, a), want.reverse(), "{b} vs {a}");
        }
        assert_eq!(sort_cmp("1.0", "1.00"), Less);
    }

    #[test]
    fn sorting_arbitrary_texts_never_panics_and_is_consistent() {
        // Texts made to trip comparators: tildes, leading zeros, separators only, non-ASCII.
        let texts = [
            "",
            "~",
            "~~",
            "0",
            "00",
            "1",
            "01",
            "1.0",
            "1.00",
            "1-0",
            "1_0",
            "1~",
            "1~1",
            "a",
            "A",
            "1a",
            "a1",
            "-",
            "é",
            "1.é",
            "99999999999999999999999",
            "1e5",
            "1.0~rc1~1",
        ];
        let mut v: Vec<&str> = texts
            .iter()
            .copied()
            .cycle()
            .take(texts.len() * 5)
            .collect();
        v.sort_by(|a, b| sort_cmp(a, b));
        for w in v.windows(2) {
            assert_ne!(sort_cmp(w[0], w[1]), Greater, "{:?} {:?}", w[0], w[1]);
        }
        for a in texts {
            for b in texts {
                for c in texts {
                    if sort_cmp(a, b) != Greater && sort_cmp(b, c) != Greater {
                        assert_ne!(sort_cmp(a, c), Greater, "{a:?} {b:?} {c:?}");
                    }
                }
            }
        }
    }
}
