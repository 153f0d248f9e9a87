//! The text SQLite gives a REAL, to the digit: how a reason, a text column or a decimal sees a
//! floating-point source value.

use std::fmt::Write as _;

/// The text SQLite gives a REAL (`CAST(x AS TEXT)`, `printf('%!.17g')` with its round-trip
/// shortening): `3.0`, `0.1`, `1.0e+20`, `Inf`.
pub fn sqlite_real_text(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Inf" } else { "-Inf" }.to_owned();
    }
    if f == 0.0 {
        return "0.0".to_owned();
    }
    let negative = f < 0.0;
    let r = f.abs();
    // SQLite's own approximate 18 significant digits (sqlite3FpDecode), rounded to 17 below.
    let (v, exp) = sqlite_fp_digits(r);
    let z: Vec<u8> = v.to_string().bytes().map(|b| b - b'0').collect();
    let idp = z.len() as i32 + exp;
    let round_trips = |d: &[u8], idp: i32| -> bool {
        let mut s = String::with_capacity(d.len() + 8);
        for x in d {
            s.push((b'0' + x) as char);
        }
        let _ = write!(s, "e{}", idp - d.len() as i32);
        s.parse::<f64>().is_ok_and(|v| v == r)
    };
    // Keeps `keep` digits rounded half up on the next one; returns them and the new point.
    let round = |keep: usize| -> (Vec<u8>, i32) {
        let mut d = z[..keep.min(z.len())].to_vec();
        let mut point = idp;
        if z.get(keep).is_some_and(|next| *next >= 5) {
            let mut i = d.len();
            loop {
                if i == 0 {
                    d.insert(0, 1);
                    point += 1;
                    break;
                }
                i -= 1;
                if d[i] == 9 {
                    d[i] = 0;
                } else {
                    d[i] += 1;
                    break;
                }
            }
        }
        (d, point)
    };
    // SQLite's round-trip shortening of 17 digits: `…99…` rounds up, `…000…` truncates.
    let n = z.len() as i32;
    let mut keep = 17;
    if n <= 17 {
        keep = z.len();
    } else if z[15] == 9 && z[14] == 9 {
        let mut jj = 14;
        while jj > 0 && z[jj - 1] == 9 {
            jj -= 1;
        }
        let (candidate, cidp) = if jj == 0 {
            (vec![1u8], idp + 1)
        } else {
            let mut c = z[..jj].to_vec();
            c[jj - 1] += 1;
            (c, idp)
        };
        if round_trips(&candidate, cidp) {
            keep = jj + 1;
        }
    } else if idp >= n || (z[15] == 0 && z[14] == 0 && z[13] == 0) {
        let mut jj = 13;
        while jj > 1 && z[jj - 1] == 0 {
            jj -= 1;
        }
        if round_trips(&z[..jj], idp) {
            keep = jj + 1;
        }
    }
    let (mut digits, idp) = round(keep);
    while digits.len() > 1 && digits.last() == Some(&0) {
        digits.pop();
    }
    let digit_char = |d: &u8| (b'0' + d) as char;
    let mut s = String::with_capacity(24);
    if negative {
        s.push('-');
    }
    let e = idp - 1;
    if !(-4..=16).contains(&e) {
        s.push(digit_char(&digits[0]));
        s.push('.');
        if digits.len() > 1 {
            s.extend(digits[1..].iter().map(digit_char));
        } else {
            s.push('0');
        }
        let _ = write!(s, "e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs());
    } else if e < 0 {
        s.push_str("0.");
        for _ in 0..(-e - 1) {
            s.push('0');
        }
        s.extend(digits.iter().map(digit_char));
    } else {
        let int_len = (e + 1) as usize;
        for i in 0..int_len {
            s.push(digits.get(i).map_or('0', digit_char));
        }
        s.push('.');
        if digits.len() > int_len {
            s.extend(digits[int_len..].iter().map(digit_char));
        } else {
            s.push('0');
        }
    }
    s
}

/// `sqlite3FpDecode`'s first step for a positive finite double: about 18 significant digits
/// `v` and a decimal exponent, so that the value is close to `v × 10^exp`. Ported from
/// SQLite 3.53 (`sqlite3Fp2Convert10`), whose rounding the text form inherits.
fn sqlite_fp_digits(r: f64) -> (u64, i32) {
    let bits = r.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let mut v = bits & 0x000f_ffff_ffff_ffff;
    let e = if biased == 0 {
        let nn = v.leading_zeros() as i32;
        v <<= nn;
        -1074 - nn
    } else {
        v = (v << 11) | (1u64 << 63);
        biased - 1086
    };
    let pwr2to10 = |p: i32| (p * 78_913) >> 18;
    let pwr10to2 = |p: i32| (p * 108_853) >> 15;
    let p = 18 - 1 - pwr2to10(e + 63);
    let h = ((u128::from(v) * u128::from(power_of_ten(p))) >> 64) as u64;
    let shift = -(e + pwr10to2(p) + 2);
    let h = if (0..64).contains(&shift) {
        h >> shift
    } else {
        0
    };
    ((h + ((h << 1) & 2)) >> 1, -p)
}

/// SQLite's 64-bit approximation of `10^p` (`powerOfTen`, upper bits only).
fn power_of_ten(p: i32) -> u64 {
    const BASE: [u64; 27] = [
        0x8000000000000000,
        0xa000000000000000,
        0xc800000000000000,
        0xfa00000000000000,
        0x9c40000000000000,
        0xc350000000000000,
        0xf424000000000000,
        0x9896800000000000,
        0xbebc200000000000,
        0xee6b280000000000,
        0x9502f90000000000,
        0xba43b74000000000,
        0xe8d4a51000000000,
        0x9184e72a00000000,
        0xb5e620f480000000,
        0xe35fa931a0000000,
        0x8e1bc9bf04000000,
        0xb1a2bc2ec5000000,
        0xde0b6b3a76400000,
        0x8ac7230489e80000,
        0xad78ebc5ac620000,
        0xd8d726b7177a8000,
        0x878678326eac9000,
        0xa968163f0a57b400,
        0xd3c21bcecceda100,
        0x84595161401484a0,
        0xa56fa5b99019a5c8,
    ];
    const SCALE: [u64; 26] = [
        0x8049a4ac0c5811ae,
        0xcf42894a5dce35ea,
        0xa76c582338ed2621,
        0x873e4f75e2224e68,
        0xda7f5bf590966848,
        0xb080392cc4349dec,
        0x8e938662882af53e,
        0xe65829b3046b0afa,
        0xba121a4650e4ddeb,
        0x964e858c91ba2655,
        0xf2d56790ab41c2a2,
        0xc428d05aa4751e4c,
        0x9e74d1b791e07e48,
        0xcccccccccccccccc,
        0xcecb8f27f4200f3a,
        0xa70c3c40a64e6c51,
        0x86f0ac99b4e8dafd,
        0xda01ee641a708de9,
        0xb01ae745b101e9e4,
        0x8e41ade9fbebc27d,
        0xe5d3ef282a242e81,
        0xb9a74a0637ce2ee1,
        0x95f83d0a1fb69cd9,
        0xf24a01a73cf2dccf,
        0xc3b8358109e84f07,
        0x9e19db92b4e31ba9,
    ];
    const SCALE_LO: [u32; 26] = [
        0x205b896d, 0x52064cad, 0xaf2af2b8, 0x5a7744a7, 0xaf39a475, 0xbd8d794e, 0x547eb47b,
        0x0cb4a5a3, 0x92f34d62, 0x3a6a07f9, 0xfae27299, 0xaa97e14c, 0x775ea265, 0xcccccccc,
        0x00000000, 0x999090b6, 0x69a028bb, 0xe80e6f48, 0x5ec05dd0, 0x14588f14, 0x8f1668c9,
        0x6d953e2c, 0x4abdaf10, 0xbc633b39, 0x0a862f81, 0x6c07a2c2,
    ];
    let (g, n) = if p < 0 {
        if p == -1 {
            return SCALE[13];
        }
        let (g, n) = (p / 27, p % 27);
        if n != 0 {
            (g - 1, n + 27)
        } else {
            (g, n)
        }
    } else if p < 27 {
        return BASE[p as usize];
    } else {
        (p / 27, p % 27)
    };
    let Some(index) = usize::try_from(g + 13).ok().filter(|i| *i < SCALE.len()) else {
        return 0;
    };
    let s = SCALE[index];
    if n == 0 {
        return s;
    }
    // sqlite3Multiply160: the upper 64 bits of (s·2^32 + lo) × base, over 2^32.
    let base = BASE[n as usize];
    let mut wide = u128::from(s) * u128::from(base);
    wide += (u128::from(SCALE_LO[index]) * u128::from(base)) >> 32;
    let mut x = (wide >> 64) as u64;
    let lo = ((wide >> 32) & 0xffff_ffff) as u32;
    if x & (1u64 << 63) == 0 {
        x = (x << 1) | u64::from((lo >> 31) & 1);
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reals_render_as_sqlite_text() {
        assert_eq!(sqlite_real_text(3.0), "3.0");
        assert_eq!(sqlite_real_text(0.1), "0.1");
        assert_eq!(sqlite_real_text(-2.5), "-2.5");
        assert_eq!(sqlite_real_text(1e20), "1.0e+20");
        assert_eq!(sqlite_real_text(1.5e-7), "1.5e-07");
        assert_eq!(sqlite_real_text(0.0001), "0.0001");
        assert_eq!(sqlite_real_text(f64::INFINITY), "Inf");
    }
}
