//! How the formats for people show a segment's time (`--time`, tshark's `-t`).

use std::fmt::Write as _;

use super::words::Words;
use crate::annotate::SegmentRecord;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TimeShown {
    /// Seconds since the capture's first frame (tshark `-t r`).
    #[default]
    Relative,
    /// The date and time of day, UTC (tshark `-t ud`).
    Absolute,
    /// Seconds since the connection's segment before (tshark `-t dd`, within a connection).
    Delta,
}

impl TimeShown {
    /// The column's heading, in the language of `w`.
    pub fn heading(self, w: &Words) -> &'static str {
        let [relative, absolute, delta] = w.drawn.times;
        match self {
            TimeShown::Relative => relative,
            TimeShown::Absolute => absolute,
            TimeShown::Delta => delta,
        }
    }

    /// Appends the cell of segment `s`; `before`: the time of the connection's segment
    /// before it.
    pub fn write(self, cell: &mut String, s: &SegmentRecord, before: Option<f64>) {
        let _ = match self {
            TimeShown::Relative => write!(cell, "{:.6}", s.time),
            TimeShown::Absolute => write!(cell, "{}", utc(s.ts.0)),
            TimeShown::Delta => write!(cell, "{:.6}", before.map_or(0.0, |b| s.time - b)),
        };
    }
}

/// `2026-12-01 21:49:12.380343`: nanoseconds since the Unix epoch as a UTC date and time of
/// day, to the microsecond.
pub fn utc(ns: u64) -> String {
    let micros = ns % 1_000_000_000 / 1_000;
    let [year, month, day, hour, minute, second] = calendar(ns / 1_000_000_000);
    format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}.{micros:06}")
}

/// Year, month, day, hour, minute and second, UTC, of `secs` seconds since the epoch.
pub(super) fn calendar(secs: u64) -> [u64; 6] {
    let (days, of_day) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil(days);
    [
        year,
        month,
        day,
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60,
    ]
}

/// Year, month and day of the `days`-th day after 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, for days on or after the epoch).
fn civil(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// A span of time as people read it: `237 µs`, `1.25 ms`, `3.5 s`.
pub fn duration(secs: f64) -> String {
    let secs = secs.max(0.0);
    let micros = (secs * 1e6).round();
    if micros < 1000.0 {
        format!("{micros} µs")
    } else if secs < 1.0 {
        format!("{} ms", trim(secs * 1e3))
    } else {
        format!("{} s", trim(secs))
    }
}

/// At most three decimals, no trailing zeros.
fn trim(x: f64) -> String {
    let text = format!("{x:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates_are_the_calendar_s() {
        assert_eq!(utc(0), "1970-01-01 00:00:00.000000");
        // As GNU date writes them: `date -u -d @951782400 "+%F %T"` (a leap day of a year
        // divisible by 400), the classic fixture's first frame, a year's last instant, and
        // 2100, no leap year.
        assert_eq!(utc(951_782_400_000_000_000), "2000-02-29 00:00:00.000000");
        assert_eq!(utc(1_795_561_953_380_343_000), "2026-11-24 23:12:33.380343");
        assert_eq!(utc(1_798_761_599_999_999_999), "2026-12-31 23:59:59.999999");
        assert_eq!(utc(4_107_542_400_000_000_000), "2100-03-01 00:00:00.000000");
    }
}
