//! Rounding, in one place (docs/pricing.md): a period line's amount is
//! rounded once, half-up (away from zero), to the currency's minor unit;
//! totals are sums of rounded lines. Unit prices keep up to 9 decimals, and
//! so do on-demand amounts (half-up at the 9th) until they are charged.

use partner_api::r#type::v1 as money_pb;
use partner_kernel::money::{Currency, Money};
use rust_decimal::{Decimal, RoundingStrategy};

/// `amount` rounded half-up to `currency`'s minor unit, as Money; `None`
/// when it does not fit.
pub fn to_minor(amount: Decimal, currency: Currency) -> Option<Money> {
    let rounded =
        amount.round_dp_with_strategy(currency.exponent(), RoundingStrategy::MidpointAwayFromZero);
    let minor = rounded.checked_mul(Decimal::from(10_i64.pow(currency.exponent())))?;
    i64::try_from(minor)
        .ok()
        .map(|m| Money::from_minor(currency, m))
}

/// `amount` rounded half-up to 9 decimals: how on-demand amounts are kept
/// until they are charged.
pub fn to_nanos(amount: Decimal) -> Decimal {
    amount.round_dp_with_strategy(9, RoundingStrategy::MidpointAwayFromZero)
}

/// An exact price (at most 9 decimals) as the proto's Money.
pub fn exact(amount: Decimal, currency: Currency) -> money_pb::Money {
    let units = amount.trunc();
    let nanos = ((amount - units) * Decimal::from(1_000_000_000_i64)).trunc();
    money_pb::Money {
        currency_code: currency.code().to_owned(),
        units: i64::try_from(units).unwrap_or(i64::MAX),
        nanos: i32::try_from(nanos).unwrap_or(0),
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).expect("decimal")
    }

    #[test]
    fn halves_round_up_to_the_minor_unit() {
        let cny = Currency::Cny;
        assert_eq!(to_minor(d("1.005"), cny).map(Money::minor), Some(101));
        assert_eq!(to_minor(d("1.0049999"), cny).map(Money::minor), Some(100));
        assert_eq!(to_minor(d("0.004"), cny).map(Money::minor), Some(0));
        assert_eq!(to_minor(d("2.5"), Currency::Jpy).map(Money::minor), Some(3));
        assert_eq!(to_minor(d("99999999999999999999"), cny), None);
    }

    #[test]
    fn exact_prices_keep_nine_decimals() {
        let m = exact(d("0.316"), Currency::Cny);
        assert_eq!((m.units, m.nanos), (0, 316_000_000));
        let m = exact(d("1520.000000001"), Currency::Cny);
        assert_eq!((m.units, m.nanos), (1520, 1));
    }
}
