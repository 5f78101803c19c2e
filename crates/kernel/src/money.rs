//! Money: a currency and an integer number of minor units, with checked
//! arithmetic, and its wire form `partner.type.v1.Money {currency_code, units, nanos}`.

use std::fmt;

use partner_api::r#type::v1 as pb;

/// An ISO 4217 currency the platform trades in, with its minor-unit exponent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Currency {
    /// Chinese yuan, 2 decimals.
    Cny,
    /// US dollar, 2 decimals.
    Usd,
    /// Euro, 2 decimals.
    Eur,
    /// Hong Kong dollar, 2 decimals.
    Hkd,
    /// Japanese yen, no decimals.
    Jpy,
}

impl Currency {
    /// Parses an upper-case ISO 4217 code.
    pub fn parse(code: &str) -> Result<Self, MoneyError> {
        match code {
            "CNY" => Ok(Self::Cny),
            "USD" => Ok(Self::Usd),
            "EUR" => Ok(Self::Eur),
            "HKD" => Ok(Self::Hkd),
            "JPY" => Ok(Self::Jpy),
            _ => Err(MoneyError::UnknownCurrency),
        }
    }

    /// The ISO 4217 code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Cny => "CNY",
            Self::Usd => "USD",
            Self::Eur => "EUR",
            Self::Hkd => "HKD",
            Self::Jpy => "JPY",
        }
    }

    /// Decimal places of the minor unit.
    pub fn exponent(self) -> u32 {
        match self {
            Self::Cny | Self::Usd | Self::Eur | Self::Hkd => 2,
            Self::Jpy => 0,
        }
    }

    /// How many nanos one minor unit is.
    fn nanos_per_minor(self) -> i64 {
        10_i64.pow(9 - self.exponent())
    }

    /// How many minor units one whole unit is.
    fn minor_per_unit(self) -> i64 {
        10_i64.pow(self.exponent())
    }
}

/// Why an amount is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// The currency code is not one the platform trades in.
    #[error("unknown currency")]
    UnknownCurrency,
    /// The two amounts are in different currencies.
    #[error("currency mismatch")]
    CurrencyMismatch,
    /// The result does not fit in 64-bit minor units.
    #[error("amount out of range")]
    Overflow,
    /// `nanos` is out of range, has the wrong sign, or is finer than the minor unit.
    #[error("amount has invalid nanos")]
    InvalidNanos,
}

/// An amount in one currency, as a whole number of minor units (cents, fen).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Money {
    currency: Currency,
    minor: i64,
}

impl Money {
    /// `minor` minor units of `currency`.
    pub const fn from_minor(currency: Currency, minor: i64) -> Self {
        Self { currency, minor }
    }

    /// Zero in `currency`.
    pub const fn zero(currency: Currency) -> Self {
        Self::from_minor(currency, 0)
    }

    /// The currency.
    pub fn currency(self) -> Currency {
        self.currency
    }

    /// The amount in minor units.
    pub fn minor(self) -> i64 {
        self.minor
    }

    /// True when strictly above zero.
    pub fn is_positive(self) -> bool {
        self.minor > 0
    }

    fn same_currency(self, other: Self) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch)
        }
    }

    /// `self + other`, refusing mixed currencies and overflow.
    pub fn checked_add(self, other: Self) -> Result<Self, MoneyError> {
        self.same_currency(other)?;
        let minor = self
            .minor
            .checked_add(other.minor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Self::from_minor(self.currency, minor))
    }

    /// `self - other`, refusing mixed currencies and overflow.
    pub fn checked_sub(self, other: Self) -> Result<Self, MoneyError> {
        self.same_currency(other)?;
        let minor = self
            .minor
            .checked_sub(other.minor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Self::from_minor(self.currency, minor))
    }

    /// `-self`, refusing overflow.
    pub fn checked_neg(self) -> Result<Self, MoneyError> {
        let minor = self.minor.checked_neg().ok_or(MoneyError::Overflow)?;
        Ok(Self::from_minor(self.currency, minor))
    }

    /// `self * factor`, refusing overflow.
    pub fn checked_mul(self, factor: i64) -> Result<Self, MoneyError> {
        let minor = self.minor.checked_mul(factor).ok_or(MoneyError::Overflow)?;
        Ok(Self::from_minor(self.currency, minor))
    }

    /// Reads the wire form. Refuses unknown currencies, `nanos` out of range or
    /// of the wrong sign, and precision finer than the currency's minor unit.
    pub fn from_proto(m: &pb::Money) -> Result<Self, MoneyError> {
        let currency = Currency::parse(&m.currency_code)?;
        let nanos = i64::from(m.nanos);
        if nanos.abs() >= 1_000_000_000 || (m.units > 0 && nanos < 0) || (m.units < 0 && nanos > 0)
        {
            return Err(MoneyError::InvalidNanos);
        }
        let per_minor = currency.nanos_per_minor();
        if nanos % per_minor != 0 {
            return Err(MoneyError::InvalidNanos);
        }
        let minor = m
            .units
            .checked_mul(currency.minor_per_unit())
            .and_then(|u| u.checked_add(nanos / per_minor))
            .ok_or(MoneyError::Overflow)?;
        Ok(Self::from_minor(currency, minor))
    }

    /// The wire form.
    pub fn to_proto(self) -> pb::Money {
        let per_unit = self.currency.minor_per_unit();
        let units = self.minor / per_unit;
        let rest = self.minor % per_unit;
        // |rest| < 100 and nanos_per_minor ≤ 1e9, so the product fits in i32.
        let nanos = i32::try_from(rest * self.currency.nanos_per_minor()).unwrap_or(0);
        pb::Money {
            currency_code: self.currency.code().to_owned(),
            units,
            nanos,
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let exp = self.currency.exponent();
        let per_unit = self.currency.minor_per_unit();
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        let per_unit = per_unit.unsigned_abs();
        if exp == 0 {
            write!(f, "{sign}{abs} {}", self.currency.code())
        } else {
            write!(
                f,
                "{sign}{}.{:0width$} {}",
                abs / per_unit,
                abs % per_unit,
                self.currency.code(),
                width = exp as usize
            )
        }
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn cny(minor: i64) -> Money {
        Money::from_minor(Currency::Cny, minor)
    }

    #[test]
    fn proto_round_trip_examples() {
        let m = cny(12_345);
        let p = m.to_proto();
        assert_eq!(
            (p.currency_code.as_str(), p.units, p.nanos),
            ("CNY", 123, 450_000_000)
        );
        assert_eq!(Money::from_proto(&p), Ok(m));
        let neg = cny(-5);
        let p = neg.to_proto();
        assert_eq!((p.units, p.nanos), (0, -50_000_000));
        assert_eq!(Money::from_proto(&p), Ok(neg));
        assert_eq!(format!("{}", cny(-12_345)), "-123.45 CNY");
        assert_eq!(format!("{}", Money::from_minor(Currency::Jpy, 7)), "7 JPY");
    }

    #[test]
    fn refuses_bad_wire_values() {
        let bad = |code: &str, units, nanos| {
            Money::from_proto(&pb::Money {
                currency_code: code.into(),
                units,
                nanos,
            })
        };
        assert_eq!(bad("XXX", 1, 0), Err(MoneyError::UnknownCurrency));
        assert_eq!(bad("cny", 1, 0), Err(MoneyError::UnknownCurrency));
        assert_eq!(bad("CNY", 1, -1), Err(MoneyError::InvalidNanos));
        assert_eq!(bad("CNY", -1, 10_000_000), Err(MoneyError::InvalidNanos));
        assert_eq!(bad("CNY", 0, 1_000_000_000), Err(MoneyError::InvalidNanos));
        assert_eq!(bad("CNY", 0, 1), Err(MoneyError::InvalidNanos));
        assert_eq!(bad("JPY", 1, 10_000_000), Err(MoneyError::InvalidNanos));
        assert_eq!(bad("CNY", i64::MAX, 0), Err(MoneyError::Overflow));
    }

    #[test]
    fn arithmetic_is_checked() {
        assert_eq!(cny(1).checked_add(cny(2)), Ok(cny(3)));
        assert_eq!(cny(i64::MAX).checked_add(cny(1)), Err(MoneyError::Overflow));
        assert_eq!(cny(i64::MIN).checked_sub(cny(1)), Err(MoneyError::Overflow));
        assert_eq!(cny(i64::MIN).checked_neg(), Err(MoneyError::Overflow));
        assert_eq!(cny(i64::MAX).checked_mul(2), Err(MoneyError::Overflow));
        assert_eq!(
            cny(1).checked_add(Money::from_minor(Currency::Usd, 1)),
            Err(MoneyError::CurrencyMismatch)
        );
    }

    proptest! {
        #[test]
        fn any_amount_round_trips(minor in any::<i64>()) {
            let m = cny(minor);
            prop_assert_eq!(Money::from_proto(&m.to_proto()), Ok(m));
        }

        #[test]
        fn add_then_sub_is_identity(a in -1_000_000_000_000i64..1_000_000_000_000, b in -1_000_000_000_000i64..1_000_000_000_000) {
            let sum = cny(a).checked_add(cny(b)).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(sum.checked_sub(cny(b)), Ok(cny(a)));
        }
    }
}
