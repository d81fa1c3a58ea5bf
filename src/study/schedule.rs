//! Spaced repetition: when a drilled question comes back.
//!
//! The rule is SM-2's (Woźniak 1990, as used by SuperMemo 2): each question
//! has an *ease*, a multiplier that starts at 2.5 and never drops below 1.3,
//! and the next interval is the last one times the ease. The four buttons
//! and their effects follow Anki's variant of SM-2 (Anki manual, "Deck
//! options"), simplified for a deck of 55 questions studied over days or
//! weeks before an interview:
//!
//! | grade | a question seen before (interval >= 1 day) | a new or relearning question |
//! |---|---|---|
//! | again | back in 10 minutes (and later in this session); a lapse: ease -0.20 | back in 10 minutes |
//! | hard  | interval x 1.2; ease -0.15 | 1 day; ease -0.15 |
//! | good  | interval x ease (at least +1 day) | 2 days |
//! | easy  | interval x ease x 1.3 (at least +1 day); ease +0.15 | 4 days; ease +0.15 |
//!
//! Intervals are capped at a year. Everything is a pure function of the old
//! state, the grade and the clock, so a schedule can be replayed and tested;
//! unlike Anki there is no random fuzz, and a late review is not credited
//! with the extra days it survived.

use serde::{Deserialize, Serialize};

/// Seconds in a day.
pub const DAY: i64 = 86_400;
/// Ease of a question never reviewed.
pub const START_EASE: f64 = 2.5;
/// Ease never drops below this (SM-2's floor).
pub const MIN_EASE: f64 = 1.3;
/// Longest interval, in days.
pub const MAX_INTERVAL_DAYS: f64 = 365.0;
/// "Again" brings a question back after this many seconds.
pub const RELEARN_SECS: i64 = 600;

/// How well the user recalled the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Grade {
    /// Did not recall it.
    Again,
    /// Recalled it with serious effort or gaps.
    Hard,
    /// Recalled it.
    Good,
    /// Recalled it at once, completely.
    Easy,
}

impl Grade {
    /// All grades, worst first.
    pub const ALL: [Grade; 4] = [Grade::Again, Grade::Hard, Grade::Good, Grade::Easy];

    /// `1`..`4`, or the name or its first letter, in any case.
    pub fn parse(s: &str) -> Option<Grade> {
        match s.trim().to_ascii_lowercase().as_str() {
            "1" | "a" | "again" => Some(Grade::Again),
            "2" | "h" | "hard" => Some(Grade::Hard),
            "3" | "g" | "good" => Some(Grade::Good),
            "4" | "e" | "easy" => Some(Grade::Easy),
            _ => None,
        }
    }

    /// The lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Grade::Again => "again",
            Grade::Hard => "hard",
            Grade::Good => "good",
            Grade::Easy => "easy",
        }
    }
}

/// The schedule of one question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardState {
    /// Interval multiplier (SM-2's E-factor), in [`MIN_EASE`], ...
    pub ease: f64,
    /// Days until the next review as last scheduled; 0 while (re)learning.
    pub interval_days: f64,
    /// When the question is due, in Unix seconds.
    pub due: i64,
    /// Reviews so far.
    pub reviews: u32,
    /// Times a question already learned was forgotten ("again" at interval >= 1 day).
    pub lapses: u32,
    /// Unix seconds of the last review.
    pub last_review: Option<i64>,
    /// Grade of the last review.
    pub last_grade: Option<Grade>,
}

impl CardState {
    /// A question never reviewed, due at `now`.
    pub fn new(now: i64) -> CardState {
        CardState {
            ease: START_EASE,
            interval_days: 0.0,
            due: now,
            reviews: 0,
            lapses: 0,
            last_review: None,
            last_grade: None,
        }
    }

    /// True when it is due at `now`.
    pub fn is_due(&self, now: i64) -> bool {
        self.due <= now
    }

    /// The state after a review graded `grade` at `now`.
    pub fn review(&self, grade: Grade, now: i64) -> CardState {
        let learned = self.interval_days >= 1.0;
        let mut next = self.clone();
        next.reviews += 1;
        next.last_review = Some(now);
        next.last_grade = Some(grade);
        let ease_step = match grade {
            Grade::Again if learned => -0.20,
            Grade::Again | Grade::Good => 0.0,
            Grade::Hard => -0.15,
            Grade::Easy => 0.15,
        };
        next.ease = (self.ease + ease_step).max(MIN_EASE);
        let i = self.interval_days;
        next.interval_days = match (grade, learned) {
            (Grade::Again, _) => 0.0,
            (Grade::Hard, false) => 1.0,
            (Grade::Good, false) => 2.0,
            (Grade::Easy, false) => 4.0,
            (Grade::Hard, true) => (i * 1.2).max(1.0),
            (Grade::Good, true) => (i * self.ease).max(i + 1.0),
            (Grade::Easy, true) => (i * self.ease * 1.3).max(i + 1.0),
        }
        .min(MAX_INTERVAL_DAYS);
        if grade == Grade::Again && learned {
            next.lapses += 1;
        }
        next.due = if grade == Grade::Again {
            now + RELEARN_SECS
        } else {
            now + (next.interval_days * DAY as f64).round() as i64
        };
        next
    }
}

/// "now", "in 10 min", "in 5 h", "in 3 d", "2 d ago": a short, human delay.
pub fn describe_delay(due: i64, now: i64) -> String {
    let d = due - now;
    let a = d.abs();
    let span = if a < 60 {
        return "now".into();
    } else if a < 3_600 {
        format!("{} min", a / 60)
    } else if a < DAY - 1_800 {
        format!("{} h", (a as f64 / 3_600.0).round() as i64)
    } else {
        format!("{} d", (a as f64 / DAY as f64).round() as i64)
    };
    if d > 0 {
        format!("in {span}")
    } else {
        format!("{span} ago")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_800_000_000;

    #[test]
    fn new_questions_graduate_by_grade() {
        let c = CardState::new(T0);
        assert!(c.is_due(T0));
        let again = c.review(Grade::Again, T0);
        assert_eq!(again.due, T0 + RELEARN_SECS);
        assert_eq!((again.ease, again.lapses), (START_EASE, 0));
        let days = |g| c.review(g, T0).interval_days;
        assert_eq!(
            [days(Grade::Hard), days(Grade::Good), days(Grade::Easy)],
            [1.0, 2.0, 4.0]
        );
        assert_eq!(c.review(Grade::Good, T0).due, T0 + 2 * DAY);
        assert!((c.review(Grade::Easy, T0).ease - 2.65).abs() < 1e-9);
    }

    #[test]
    fn intervals_grow_by_ease_and_lapses_reset() {
        let mut c = CardState::new(T0).review(Grade::Good, T0); // 2 d
        let t = c.due;
        c = c.review(Grade::Good, t); // 2 x 2.5 = 5 d
        assert_eq!(c.interval_days, 5.0);
        c = c.review(Grade::Hard, c.due); // 5 x 1.2 = 6 d, ease 2.35
        assert!((c.interval_days - 6.0).abs() < 1e-9);
        assert!((c.ease - 2.35).abs() < 1e-9);
        c = c.review(Grade::Easy, c.due); // 6 x 2.35 x 1.3
        assert!((c.interval_days - 18.33).abs() < 1e-9);
        let lapsed = c.review(Grade::Again, c.due);
        assert_eq!((lapsed.interval_days, lapsed.lapses), (0.0, 1));
        assert!((lapsed.ease - 2.30).abs() < 1e-9);
        // Relearning: "good" graduates it again, from scratch.
        assert_eq!(lapsed.review(Grade::Good, lapsed.due).interval_days, 2.0);
        assert_eq!(lapsed.reviews, 5);
    }

    #[test]
    fn ease_and_interval_stay_in_bounds() {
        let mut c = CardState::new(T0);
        for _ in 0..20 {
            c = c.review(Grade::Hard, c.due);
        }
        assert_eq!(c.ease, MIN_EASE);
        let mut c = CardState::new(T0);
        for _ in 0..30 {
            c = c.review(Grade::Easy, c.due);
        }
        assert_eq!(c.interval_days, MAX_INTERVAL_DAYS);
        assert!(c.due > T0);
    }

    #[test]
    fn grades_parse_from_digits_letters_and_names() {
        for (s, g) in [
            ("1", Grade::Again),
            ("H", Grade::Hard),
            (" good ", Grade::Good),
            ("Easy", Grade::Easy),
        ] {
            assert_eq!(Grade::parse(s), Some(g));
        }
        assert_eq!(Grade::parse("5"), None);
        assert_eq!(Grade::parse(""), None);
    }

    #[test]
    fn delays_read_naturally() {
        assert_eq!(describe_delay(T0 + 30, T0), "now");
        assert_eq!(describe_delay(T0 + 600, T0), "in 10 min");
        assert_eq!(describe_delay(T0 + 5 * 3600, T0), "in 5 h");
        assert_eq!(describe_delay(T0 + 3 * DAY, T0), "in 3 d");
        assert_eq!(describe_delay(T0 + DAY - 40, T0), "in 1 d");
        assert_eq!(describe_delay(T0 - 2 * DAY, T0), "2 d ago");
    }
}
