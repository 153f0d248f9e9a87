//! The one exact decimal: parsed from text, rounded half away from zero to a column's scale,
//! checked against `numeric(p,s)` and PostgreSQL's limits, written as binary COPY digits.

use smallvec::SmallVec;

use super::real::sqlite_real_text;
use super::value::{invalid_utf8, Reason, Val};

/// An exact decimal: `digits × 10^-scale`, digits most significant first, no leading zeros.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Decimal {
    pub negative: bool,
    /// Inline up to 32 digits: a REAL or a money amount converts without allocating.
    pub digits: SmallVec<[u8; 32]>,
    pub scale: u32,
}

/// PostgreSQL's numeric limits: digits before and after the point.
pub(crate) const MAX_WEIGHT_DIGITS: i64 = 131_072;
pub(crate) const MAX_SCALE: u32 = 16_383;

impl Decimal {
    pub(crate) fn from_i64(i: i64) -> Decimal {
        let mut digits: SmallVec<[u8; 32]> = SmallVec::new();
        let mut n = i.unsigned_abs();
        while n > 0 {
            digits.push((n % 10) as u8);
            n /= 10;
        }
        digits.reverse();
        Decimal {
            negative: i < 0,
            digits,
            scale: 0,
        }
        .normalised()
    }

    /// `[+-]digits[.digits][e[+-]digits]`, surrounding whitespace allowed.
    pub(crate) fn parse(text: &str) -> Option<Decimal> {
        let t = text.trim().as_bytes();
        let (negative, t) = match t.first() {
            Some(b'-') => (true, &t[1..]),
            Some(b'+') => (false, &t[1..]),
            _ => (false, t),
        };
        let int_len = t.iter().take_while(|c| c.is_ascii_digit()).count();
        let mut digits: SmallVec<[u8; 32]> = t[..int_len].iter().map(|c| c - b'0').collect();
        let mut rest = &t[int_len..];
        let mut frac_len = 0usize;
        if rest.first() == Some(&b'.') {
            frac_len = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
            digits.extend(rest[1..1 + frac_len].iter().map(|c| c - b'0'));
            rest = &rest[1 + frac_len..];
        }
        if digits.is_empty() {
            return None;
        }
        let mut exponent: i64 = 0;
        if let Some(b'e' | b'E') = rest.first() {
            let e = std::str::from_utf8(&rest[1..]).ok()?;
            exponent = e.parse::<i64>().ok()?;
            if exponent.abs() > 2 * MAX_WEIGHT_DIGITS {
                return None;
            }
            rest = &[];
        }
        if !rest.is_empty() {
            return None;
        }
        let mut scale = frac_len as i64 - exponent;
        if scale < 0 {
            digits.extend(std::iter::repeat_n(0, (-scale) as usize));
            scale = 0;
        }
        Some(
            Decimal {
                negative,
                digits,
                scale: u32::try_from(scale).ok()?,
            }
            .normalised(),
        )
    }

    pub(crate) fn normalised(mut self) -> Decimal {
        let zeros = self.digits.iter().take_while(|d| **d == 0).count();
        self.digits.drain(..zeros);
        self
    }

    pub(crate) fn is_zero(&self) -> bool {
        self.digits.iter().all(|d| *d == 0)
    }

    /// Whether two decimals are the same number, whatever their scale or the sign of a zero:
    /// `1.50` and `1.5`, `1e2` and `100`, `-0` and `0`.
    pub(crate) fn same_value(&self, other: &Decimal) -> bool {
        // Parsed and built decimals have no leading zeros; trailing ones change only the scale.
        fn significant(d: &Decimal) -> &[u8] {
            let zeros = d.digits.iter().rev().take_while(|x| **x == 0).count();
            &d.digits[..d.digits.len() - zeros]
        }
        let (a, b) = (significant(self), significant(other));
        a == b
            && (a.is_empty()
                || (self.negative == other.negative && self.magnitude() == other.magnitude()))
    }

    /// Decimal exponent of the leading digit plus one: 12.3 → 2, 0.05 → -1.
    pub(crate) fn magnitude(&self) -> i64 {
        self.digits.len() as i64 - i64::from(self.scale)
    }

    pub(crate) fn is_integral(&self) -> bool {
        let frac = (self.scale as usize).min(self.digits.len());
        self.digits[self.digits.len() - frac..]
            .iter()
            .all(|d| *d == 0)
    }

    pub(crate) fn to_i64(&self) -> Option<i64> {
        let int_len = self.magnitude();
        if int_len > 19 {
            return None;
        }
        let mut v: i128 = 0;
        for d in self.digits.iter().take(int_len.max(0) as usize) {
            v = v * 10 + i128::from(*d);
        }
        let v = if self.negative { -v } else { v };
        i64::try_from(v).ok()
    }

    /// The value × 10^scale as an integer (after `round_to`).
    pub(crate) fn scaled_i64(&self) -> Option<i64> {
        if self.digits.len() > 19 {
            return None;
        }
        let v = self
            .digits
            .iter()
            .fold(0i128, |acc, d| acc * 10 + i128::from(*d));
        i64::try_from(if self.negative { -v } else { v }).ok()
    }

    /// Rounds to `scale` digits after the point, half away from zero.
    pub(crate) fn round_to(mut self, scale: u32) -> Decimal {
        if self.scale <= scale {
            self.digits
                .extend(std::iter::repeat_n(0, (scale - self.scale) as usize));
            self.scale = scale;
            return self;
        }
        let drop = (self.scale - scale) as usize;
        let round_up = if drop <= self.digits.len() {
            self.digits[self.digits.len() - drop] >= 5
        } else {
            false
        };
        let keep = self.digits.len().saturating_sub(drop);
        self.digits.truncate(keep);
        self.scale = scale;
        if round_up {
            let mut i = self.digits.len();
            loop {
                if i == 0 {
                    self.digits.insert(0, 1);
                    break;
                }
                i -= 1;
                if self.digits[i] == 9 {
                    self.digits[i] = 0;
                } else {
                    self.digits[i] += 1;
                    break;
                }
            }
        }
        self.normalised()
    }

    /// Rounds to the column's scale and checks its precision, as `numeric(p,s)` would.
    pub(crate) fn fit(self, precision: u32, scale: u32, type_sql: &str) -> Result<Decimal, Reason> {
        let d = self.round_to(scale);
        let max = i64::from(precision) - i64::from(scale);
        if !d.is_zero() && d.magnitude() > max {
            return Err(format!(
                "{d} does not fit in `{type_sql}` (at most {} digits before the point)",
                max.max(0)
            ));
        }
        Ok(d)
    }

    pub(crate) fn check_limits(&self) -> Result<(), Reason> {
        if self.scale > MAX_SCALE || self.magnitude() > MAX_WEIGHT_DIGITS {
            return Err("the number exceeds PostgreSQL's numeric limits".to_owned());
        }
        Ok(())
    }
}

impl std::fmt::Display for Decimal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scale = self.scale as usize;
        let mut s = String::with_capacity(self.digits.len() + 3);
        if self.negative && !self.is_zero() {
            s.push('-');
        }
        let int_len = self.digits.len().saturating_sub(scale);
        if int_len == 0 {
            s.push('0');
        }
        s.extend(self.digits[..int_len].iter().map(|d| (b'0' + d) as char));
        if scale > 0 {
            s.push('.');
            s.extend(std::iter::repeat_n(
                '0',
                scale.saturating_sub(self.digits.len()),
            ));
            s.extend(self.digits[int_len..].iter().map(|d| (b'0' + d) as char));
        }
        f.write_str(&s)
    }
}

pub(crate) fn decimal(val: &Val<'_>) -> Result<Decimal, Reason> {
    match val {
        Val::Int(i) => Ok(Decimal::from_i64(*i)),
        Val::Real(f) => {
            if !f.is_finite() {
                return Err(format!("{} is not a finite number", sqlite_real_text(*f)));
            }
            // The shortest text that reads back as the same double: what the application saw.
            Decimal::parse(ryu::Buffer::new().format_finite(*f))
                .ok_or_else(|| format!("{f} is not a number"))
        }
        Val::Text(t) => Decimal::parse(t).ok_or_else(|| format!("`{t}` is not a number")),
        Val::InvalidText(b) => Err(invalid_utf8(b)),
        Val::Bool(b) => Ok(Decimal::from_i64(i64::from(*b))),
        other => Err(format!("{} is not a number", other.describe())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fit(text: &str, p: u32, s: u32) -> Result<String, String> {
        Decimal::parse(text)
            .ok_or("unparsed")?
            .fit(p, s, "numeric")
            .map(|d| d.to_string())
    }

    #[test]
    fn decimals_round_half_away_from_zero_and_check_precision() {
        assert_eq!(fit("4.205", 10, 2).as_deref(), Ok("4.21"));
        assert_eq!(fit("-4.205", 10, 2).as_deref(), Ok("-4.21"));
        assert_eq!(fit("4.2", 10, 2).as_deref(), Ok("4.20"));
        assert_eq!(fit("99.995", 10, 2).as_deref(), Ok("100.00"));
        assert_eq!(fit("0.004", 10, 2).as_deref(), Ok("0.00"));
        assert_eq!(fit("1e3", 10, 2).as_deref(), Ok("1000.00"));
        assert!(fit("99999999.995", 10, 2).is_err());
        assert_eq!(fit("99999999.994", 10, 2).as_deref(), Ok("99999999.99"));
        assert_eq!(fit("0.05", 2, 3).as_deref(), Ok("0.050"));
        assert!(fit("0.5", 2, 3).is_err());
        assert!(Decimal::parse("1.2.3").is_none());
        assert!(Decimal::parse("abc").is_none());
        assert!(Decimal::parse(".").is_none());
    }

    #[test]
    fn reals_become_the_decimal_of_their_shortest_text() {
        let d = decimal(&Val::Real(2.675)).and_then(|d| d.fit(10, 2, "numeric"));
        assert_eq!(d.map(|d| d.to_string()).as_deref(), Ok("2.68"));
        let d = decimal(&Val::Real(0.1 + 0.2)).map(|d| d.to_string());
        assert_eq!(d.as_deref(), Ok("0.30000000000000004"));
    }

    #[test]
    fn decimals_are_the_same_number_whatever_their_scale() {
        let same = |a: &str, b: &str| {
            let (a, b) = (Decimal::parse(a).unwrap(), Decimal::parse(b).unwrap());
            a.same_value(&b)
        };
        assert!(same("1.50", "1.5"));
        assert!(same("0012.3400", "12.34"));
        assert!(same("1e2", "100.0"));
        assert!(same("-0.0", "0"));
        assert!(same(".5", "0.5"));
        assert!(!same("1.5", "15"));
        assert!(!same("-1.5", "1.5"));
        assert!(!same("0.05", "0.5"));
        assert!(!same("0", "0.001"));
    }
}
