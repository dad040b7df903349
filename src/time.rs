//! Calendar quarters: the model's unit of time.
//!
//! A [`Quarter`] is a calendar quarter (`2026Q1` = January to March 2026). Alibaba's
//! fiscal year ends on 31 March, so its fiscal quarters are shifted by one: FY26Q4 is
//! calendar `2026Q1`. Outputs always use calendar quarters.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A calendar quarter, e.g. `2026Q1`.
///
/// # Examples
///
/// ```
/// use cloudcapex::Quarter;
/// let q: Quarter = "2026Q1".parse().unwrap();
/// assert_eq!(q.end_date(), "2026-03-31");
/// assert_eq!(q.plus(3).to_string(), "2026Q4");
/// assert_eq!(q.plus(4).to_string(), "2027Q1");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quarter {
    year: i32,
    /// 1 to 4.
    quarter_of_year: u8,
}

/// Why a quarter label could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QuarterError {
    /// The text is not of the form `YYYYQn`.
    #[error(
        "expected a calendar quarter like \"2026Q1\" (year, the letter Q, 1 to 4), found {0:?}"
    )]
    Malformed(String),
    /// The year is outside 1900..=2200.
    #[error("year {0} is outside the supported range 1900 to 2200")]
    YearOutOfRange(i32),
}

impl Quarter {
    /// Builds a quarter from a year and a quarter of the year (1 to 4).
    ///
    /// # Errors
    ///
    /// [`QuarterError::Malformed`] if `quarter_of_year` is not 1 to 4, and
    /// [`QuarterError::YearOutOfRange`] outside 1900 to 2200.
    ///
    /// # Examples
    ///
    /// ```
    /// use cloudcapex::Quarter;
    /// assert_eq!(Quarter::new(2025, 3).unwrap().label(), "2025Q3");
    /// assert!(Quarter::new(2025, 5).is_err());
    /// ```
    pub fn new(year: i32, quarter_of_year: u8) -> Result<Self, QuarterError> {
        if !(1..=4).contains(&quarter_of_year) {
            return Err(QuarterError::Malformed(format!("{year}Q{quarter_of_year}")));
        }
        if !(1900..=2200).contains(&year) {
            return Err(QuarterError::YearOutOfRange(year));
        }
        Ok(Self {
            year,
            quarter_of_year,
        })
    }

    /// Calendar year.
    pub fn year(self) -> i32 {
        self.year
    }

    /// Quarter of the calendar year, 1 to 4.
    pub fn quarter_of_year(self) -> u8 {
        self.quarter_of_year
    }

    /// The Alibaba fiscal year this quarter belongs to, as the calendar year of the March
    /// that ends it: 2025Q2 … 2026Q1 are FY26 (2026).
    ///
    /// # Examples
    ///
    /// ```
    /// use cloudcapex::Quarter;
    /// let q: Quarter = "2026Q1".parse().unwrap();
    /// assert_eq!(q.fiscal_year(), 2026);
    /// assert_eq!(q.plus(1).fiscal_year(), 2027);
    /// ```
    pub fn fiscal_year(self) -> i32 {
        if self.quarter_of_year == 1 {
            self.year
        } else {
            self.year + 1
        }
    }

    /// The quarter `n` quarters later.
    pub fn plus(self, n: u32) -> Self {
        let zero_based = self.year as i64 * 4 + (self.quarter_of_year as i64 - 1) + n as i64;
        Self {
            year: zero_based.div_euclid(4) as i32,
            quarter_of_year: (zero_based.rem_euclid(4) + 1) as u8,
        }
    }

    /// The quarter `n` quarters later (`n < 0`: earlier).
    ///
    /// # Examples
    ///
    /// ```
    /// use cloudcapex::Quarter;
    /// let q: Quarter = "2026Q1".parse().unwrap();
    /// assert_eq!(q.offset(-5).to_string(), "2024Q4");
    /// ```
    pub fn offset(self, n: i64) -> Self {
        let zero_based = self.year as i64 * 4 + (self.quarter_of_year as i64 - 1) + n;
        Self {
            year: zero_based.div_euclid(4) as i32,
            quarter_of_year: (zero_based.rem_euclid(4) + 1) as u8,
        }
    }

    /// Label such as `2026Q1`.
    pub fn label(self) -> String {
        self.to_string()
    }

    /// Last calendar day of the quarter as days since 1970-01-01 (Arrow's and Parquet's
    /// `date32`), by the proleptic Gregorian calendar.
    ///
    /// # Examples
    ///
    /// ```
    /// use cloudcapex::time::Quarter;
    /// assert_eq!(Quarter::new(1970, 1).unwrap().end_days_since_epoch(), 89);
    /// assert_eq!(Quarter::new(2026, 1).unwrap().end_days_since_epoch(), 20_543);
    /// ```
    pub fn end_days_since_epoch(self) -> i32 {
        let (month, day) = match self.quarter_of_year {
            1 => (3, 31),
            2 => (6, 30),
            3 => (9, 30),
            _ => (12, 31),
        };
        // Howard Hinnant's days_from_civil: years from March, so the leap day is last.
        let year = i64::from(self.year) - i64::from(month <= 2);
        let era = year.div_euclid(400);
        let year_of_era = year - era * 400;
        let shifted_month = (month + 9) % 12;
        let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
        let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
        (era * 146_097 + day_of_era - 719_468) as i32
    }

    /// Last calendar day of the quarter, ISO 8601 (`2026-03-31`).
    pub fn end_date(self) -> String {
        let month_day = match self.quarter_of_year {
            1 => "03-31",
            2 => "06-30",
            3 => "09-30",
            _ => "12-31",
        };
        format!("{:04}-{month_day}", self.year)
    }
}

impl fmt::Display for Quarter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}Q{}", self.year, self.quarter_of_year)
    }
}

impl FromStr for Quarter {
    type Err = QuarterError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let malformed = || QuarterError::Malformed(text.to_string());
        let (year, quarter) = text.split_once(['Q', 'q']).ok_or_else(malformed)?;
        if year.len() != 4 || quarter.len() != 1 {
            return Err(malformed());
        }
        let year: i32 = year.parse().map_err(|_| malformed())?;
        let quarter: u8 = quarter.parse().map_err(|_| malformed())?;
        Quarter::new(year, quarter).map_err(|e| match e {
            QuarterError::Malformed(_) => malformed(),
            other => other,
        })
    }
}

impl Serialize for Quarter {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Quarter {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Quarter ends as days since 1970-01-01 against a count of month lengths over the
    /// supported years, 1900–2200 (2000 a leap year; 1900 and 2100 not).
    #[test]
    fn end_days_since_epoch_counts_the_calendar() {
        let leap = |y: i32| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        let month_days = |y: i32, m: usize| {
            [
                31,
                28 + i32::from(leap(y)),
                31,
                30,
                31,
                30,
                31,
                31,
                30,
                31,
                30,
                31,
            ][m]
        };
        let mut days_before_year = -(1900..1970).map(|y| 365 + i32::from(leap(y))).sum::<i32>();
        for year in 1900..=2200 {
            for quarter in 1..=4u8 {
                let months = usize::from(quarter) * 3;
                let end =
                    days_before_year + (0..months).map(|m| month_days(year, m)).sum::<i32>() - 1;
                let q = Quarter::new(year, quarter).unwrap();
                assert_eq!(q.end_days_since_epoch(), end, "{q}");
            }
            days_before_year += 365 + i32::from(leap(year));
        }
    }

    #[test]
    fn end_dates_follow_the_calendar() {
        let q = Quarter::new(2025, 1).unwrap();
        let ends: Vec<String> = (0..4).map(|i| q.plus(i).end_date()).collect();
        assert_eq!(
            ends,
            ["2025-03-31", "2025-06-30", "2025-09-30", "2025-12-31"]
        );
    }

    #[test]
    fn parses_and_rejects() {
        assert_eq!("2026q2".parse::<Quarter>().unwrap().label(), "2026Q2");
        for bad in [
            "2026", "2026Q5", "26Q1", "2026Q", "Q12026", "2026Q1x", "abcdQ1",
        ] {
            assert!(bad.parse::<Quarter>().is_err(), "{bad} should be refused");
        }
        assert_eq!(
            "1800Q1".parse::<Quarter>(),
            Err(QuarterError::YearOutOfRange(1800))
        );
    }

    proptest! {
        #[test]
        fn plus_is_additive_and_label_round_trips(year in 1900i32..2100, q in 1u8..=4, a in 0u32..200, b in 0u32..200) {
            let start = Quarter::new(year, q).unwrap();
            prop_assert_eq!(start.plus(a).plus(b), start.plus(a + b));
            let label = start.plus(a).label();
            prop_assert_eq!(label.parse::<Quarter>().unwrap(), start.plus(a));
        }
    }
}

/// A calendar date (proleptic Gregorian), for day-count finance (`xnpv`, `xirr`).
///
/// # Examples
///
/// ```
/// use cloudcapex::time::Date;
/// let a = Date::new(2008, 1, 1).unwrap();
/// let b = Date::new(2009, 1, 1).unwrap();
/// assert_eq!(b.days_since(a), 366); // 2008 is a leap year
/// assert!(Date::new(2025, 2, 29).is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: i32,
    month: u8,
    day: u8,
}

/// Why a date was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DateError {
    /// No such day (e.g. 30 February).
    #[error("{year:04}-{month:02}-{day:02} is not a calendar date")]
    NoSuchDay {
        /// Year.
        year: i32,
        /// Month.
        month: u8,
        /// Day.
        day: u8,
    },
}

impl Date {
    /// Builds a date.
    ///
    /// # Errors
    ///
    /// [`DateError::NoSuchDay`] if the month is not 1 to 12 or the day not in the month.
    ///
    /// # Examples
    ///
    /// ```
    /// use cloudcapex::time::Date;
    /// assert!(Date::new(2024, 2, 29).is_ok());
    /// ```
    pub fn new(year: i32, month: u8, day: u8) -> Result<Self, DateError> {
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let days_in_month = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => 0,
        };
        if day == 0 || day > days_in_month {
            return Err(DateError::NoSuchDay { year, month, day });
        }
        Ok(Self { year, month, day })
    }

    /// Days since 1970-01-01 (negative before), by Howard Hinnant's `days_from_civil`.
    pub fn days_since_epoch(self) -> i64 {
        let y = self.year as i64 - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let year_of_era = y - era * 400;
        let m = self.month as i64;
        let day_of_year = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + self.day as i64 - 1;
        let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
        era * 146_097 + day_of_era - 719_468
    }

    /// Days from `earlier` to `self` (negative if `self` is earlier).
    pub fn days_since(self, earlier: Date) -> i64 {
        self.days_since_epoch() - earlier.days_since_epoch()
    }
}

impl Quarter {
    /// Last day of the quarter as a [`Date`].
    pub fn end(self) -> Date {
        let (month, day) = match self.quarter_of_year {
            1 => (3, 31),
            2 => (6, 30),
            3 => (9, 30),
            _ => (12, 31),
        };
        Date::new(self.year, month, day).expect("quarter ends are dates")
    }

    /// Number of quarters from `earlier` to `self` (negative if `self` is earlier).
    pub fn quarters_since(self, earlier: Quarter) -> i64 {
        (self.year as i64 * 4 + self.quarter_of_year as i64)
            - (earlier.year as i64 * 4 + earlier.quarter_of_year as i64)
    }
}

#[cfg(test)]
mod date_tests {
    use super::*;

    #[test]
    fn epoch_and_known_days() {
        assert_eq!(Date::new(1970, 1, 1).unwrap().days_since_epoch(), 0);
        assert_eq!(Date::new(2000, 3, 1).unwrap().days_since_epoch(), 11_017);
        assert_eq!(Date::new(1969, 12, 31).unwrap().days_since_epoch(), -1);
        let q: Quarter = "2026Q1".parse().unwrap();
        assert_eq!(q.end(), Date::new(2026, 3, 31).unwrap());
        assert_eq!(q.quarters_since("2025Q1".parse().unwrap()), 4);
        assert_eq!("2025Q1".parse::<Quarter>().unwrap().quarters_since(q), -4);
    }
}
