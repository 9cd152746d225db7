//! Glob-style pattern matching exactly as Redis's `stringmatchlen`
//! (`util.c`, Redis 7.0): `*`, `?`, `[abc]`, `[^a-z]`, and `\` escapes.
//! Used by KEYS, SCAN/HSCAN/SSCAN/ZSCAN MATCH, CONFIG GET and COMMAND LIST.
//! A leaf with no state.
//!
//! # Bounded work
//!
//! Patterns come from clients, so the matcher must finish in time about
//! linear in the subject for any pattern. Like Redis it (1) caps the
//! nesting of `*` at 1000 and (2) stops as soon as the rest of a pattern
//! after a `*` failed to match at every later position of the subject:
//! then no longer match of an earlier `*` can help either, because it
//! would only start the rest later still. Without (2) a pattern like
//! `*a*a*a*a*a*a*a*a*a*a*b` against 60 `a`s takes exponential time.

/// Whether `s` matches `pattern`; `nocase` folds ASCII case.
pub fn matches(pattern: &[u8], s: &[u8], nocase: bool) -> bool {
    let mut skip_longer = false;
    match_at(pattern, s, nocase, &mut skip_longer, 0)
}

/// DEBUG STRINGMATCH-TEST: matches `cycles` random patterns against
/// random strings (up to 31 bytes each, bytes below 128), as Redis's
/// `stringmatchlen_fuzz_test`; returns how many matched. A crash or a
/// hang here is the bug it looks for.
pub fn fuzz_test(cycles: usize) -> usize {
    let mut rng = fastrand::Rng::new();
    let (mut s, mut p) = ([0u8; 32], [0u8; 32]);
    let mut total = 0;
    for _ in 0..cycles {
        let (sl, pl) = (rng.usize(..32), rng.usize(..32));
        s[..sl].iter_mut().for_each(|b| *b = rng.u8(..128));
        p[..pl].iter_mut().for_each(|b| *b = rng.u8(..128));
        total += matches(&p[..pl], &s[..sl], false) as usize;
    }
    total
}

#[inline]
fn eq(a: u8, b: u8, nocase: bool) -> bool {
    if nocase {
        a.eq_ignore_ascii_case(&b)
    } else {
        a == b
    }
}

/// `stringmatchlen_impl`: `skip_longer` is set once a `*` has tried every
/// start for the rest of the pattern and failed, which ends the outer
/// `*`s' searches too.
fn match_at(mut p: &[u8], mut s: &[u8], nocase: bool, skip_longer: &mut bool, depth: u32) -> bool {
    // Protection against abusive patterns, as Redis.
    if depth > 1000 {
        return false;
    }
    while !p.is_empty() && !s.is_empty() {
        match p[0] {
            b'*' => {
                while p.len() > 1 && p[1] == b'*' {
                    p = &p[1..];
                }
                if p.len() == 1 {
                    return true;
                }
                while !s.is_empty() {
                    if match_at(&p[1..], s, nocase, skip_longer, depth + 1) {
                        return true;
                    }
                    if *skip_longer {
                        return false;
                    }
                    s = &s[1..];
                }
                *skip_longer = true;
                return false;
            }
            b'?' => {
                s = &s[1..];
            }
            b'[' => {
                p = &p[1..];
                let not = p.first() == Some(&b'^');
                if not {
                    p = &p[1..];
                }
                let mut matched = false;
                let c = s[0];
                // Redis steps back onto the last byte of an unterminated
                // class so the step after the class ends the pattern.
                let mut unterminated = false;
                loop {
                    if p.len() >= 2 && p[0] == b'\\' {
                        p = &p[1..];
                        if p[0] == c {
                            matched = true;
                        }
                    } else if p.first() == Some(&b']') {
                        break;
                    } else if p.is_empty() {
                        unterminated = true;
                        break;
                    } else if p.len() >= 3 && p[1] == b'-' {
                        let (mut start, mut end) = (p[0], p[2]);
                        if start > end {
                            std::mem::swap(&mut start, &mut end);
                        }
                        let mut x = c;
                        if nocase {
                            start = start.to_ascii_lowercase();
                            end = end.to_ascii_lowercase();
                            x = x.to_ascii_lowercase();
                        }
                        p = &p[2..];
                        if x >= start && x <= end {
                            matched = true;
                        }
                    } else if eq(p[0], c, nocase) {
                        matched = true;
                    }
                    p = &p[1..];
                }
                if not {
                    matched = !matched;
                }
                if !matched {
                    return false;
                }
                s = &s[1..];
                if unterminated {
                    // The pattern is used up: match iff the subject is too.
                    return s.is_empty();
                }
            }
            b'\\' if p.len() >= 2 => {
                p = &p[1..];
                if !eq(p[0], s[0], nocase) {
                    return false;
                }
                s = &s[1..];
            }
            c => {
                if !eq(c, s[0], nocase) {
                    return false;
                }
                s = &s[1..];
            }
        }
        p = &p[1..];
        if s.is_empty() {
            // Trailing stars match the empty rest, but only once a byte was
            // consumed: Redis's `stringmatchlen("*", "")` is false, and
            // KEYS and SCAN special-case a lone `*` themselves.
            while p.first() == Some(&b'*') {
                p = &p[1..];
            }
            break;
        }
    }
    p.is_empty() && s.is_empty()
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn redis_globs() {
        assert!(matches(b"*", b"anything", false));
        assert!(matches(b"h?llo", b"hello", false));
        assert!(matches(b"h*llo", b"heeeello", false));
        assert!(matches(b"h[ae]llo", b"hallo", false));
        assert!(!matches(b"h[^e]llo", b"hello", false));
        assert!(matches(b"h[a-b]llo", b"hbllo", false));
        assert!(matches(b"h\\*llo", b"h*llo", false));
        assert!(!matches(b"h\\*llo", b"hello", false));
        assert!(matches(b"KEY:*", b"key:1", true));
        assert!(!matches(b"a*b", b"acd", false));
        assert!(matches(b"", b"", false));
        assert!(
            !matches(b"*", b"", false),
            "as Redis: only KEYS/SCAN treat a lone * as all"
        );
        assert!(!matches(b"**", b"", false));
        assert!(matches(b"a*", b"a", false));
        assert!(!matches(b"", b"a", false));
        assert!(
            matches(b"a[bc", b"ab", false),
            "unterminated class at the end"
        );
        assert!(!matches(b"a[bc", b"abx", false));
        assert!(
            matches(b"a\\", b"a\\", false),
            "trailing backslash is literal"
        );
        assert!(matches(b"*a*b*c", b"xxaxxbxxc", false));
        assert!(!matches(b"*a*b*c", b"xxaxxbxx", false));
    }

    /// The pattern of issue #11 against 60 `a`s: exponential without the
    /// early exit (minutes), a few thousand steps with it. A behaviour
    /// check, not a timing one: it either finishes or the test hangs.
    #[test]
    fn abusive_patterns_finish() {
        let key = vec![b'a'; 60];
        assert!(!matches(b"*a*a*a*a*a*a*a*a*a*a*b", &key, false));
        let mut long = vec![b'a'; 10_000];
        assert!(!matches(
            &[b"*a".repeat(500), b"b".to_vec()].concat(),
            &long,
            false
        ));
        long.push(b'b');
        assert!(matches(
            &[b"*a".repeat(500), b"b".to_vec()].concat(),
            &long,
            false
        ));
    }
}
