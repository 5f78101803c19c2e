//! What each discount makes of rated lines, and which is the best offer
//! (docs/pricing.md, "Discounts in rating"). Pure: the discounts in force
//! and the rated lines in, one offer per discount out.
//!
//! Each offer applies its one discount alone to the lines' list amounts,
//! which are already rounded: a rate's amount off is rounded half-up to the
//! minor unit per line; a fixed reduction is taken once per request, from
//! the covered lines in order, each at most its amount; lines outside its
//! scope keep their list amount. Totals are sums of lines.

use std::cmp::Ordering;

use partner_kernel::money::{Money, MoneyError};
use rust_decimal::Decimal;

use super::model::{Discount, Terms};
use crate::rating::rounding;

/// A rated line as discounts see it.
#[derive(Debug, Clone, Copy)]
pub struct Priced<'a> {
    pub service_type: &'a str,
    pub resource_type: &'a str,
    pub list: Money,
}

/// One line under one discount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineUnder {
    pub list: Money,
    pub off: Money,
    pub final_amount: Money,
}

/// The request under one discount.
#[derive(Debug, Clone)]
pub struct Offer<'a> {
    pub discount: &'a Discount,
    /// One per line, in line order.
    pub lines: Vec<LineUnder>,
    pub list_total: Money,
    pub off_total: Money,
    pub final_total: Money,
    pub best: bool,
}

/// The amount `terms` take off a line of `list`, at most `list`; `left`
/// is what remains of a fixed reduction for this request (it is taken once
/// per request, line by line, so splitting a purchase into more lines never
/// makes it larger). A reduction in another currency takes nothing (the
/// caller leaves such discounts out). `None`: the arithmetic does not fit.
fn off(terms: Terms, list: Money, left: &mut Money) -> Option<Money> {
    let currency = list.currency();
    let taken = match terms {
        Terms::RateOff(rate) => {
            let scale = Decimal::from(10_i64.pow(currency.exponent()));
            let major = Decimal::from(list.minor()).checked_div(scale)?;
            rounding::to_minor(major.checked_mul(rate)?, currency)?
        }
        Terms::Reduction(_) if left.currency() == currency => *left,
        Terms::Reduction(_) => Money::zero(currency),
    };
    let taken = if taken.minor() > list.minor() {
        list
    } else {
        taken
    };
    if let Terms::Reduction(_) = terms {
        *left = left.checked_sub(taken).ok()?;
    }
    Some(taken)
}

/// How two offers compare as the best: lower final total first, then the
/// kind (vendor contract, distributor contract, partner-set, promotion),
/// then the id (ids order as their text does: one prefix, then the
/// UUID's bytes as lowercase hex).
fn rank(a: &Offer<'_>, b: &Offer<'_>) -> Ordering {
    a.final_total
        .minor()
        .cmp(&b.final_total.minor())
        .then(a.discount.kind.cmp(&b.discount.kind))
        .then(a.discount.id.cmp(&b.discount.id))
}

/// One offer per discount covering at least one line, best first, then by
/// kind and id; the best is marked. With `auto_pay` the best is the best
/// commercial contract whenever one covers a line.
pub fn offers<'a>(
    discounts: &'a [Discount],
    lines: &[Priced<'_>],
    auto_pay: bool,
) -> Result<Vec<Offer<'a>>, MoneyError> {
    let Some(first) = lines.first() else {
        return Ok(Vec::new());
    };
    let zero = Money::zero(first.list.currency());
    let mut out = Vec::new();
    for discount in discounts {
        if !lines
            .iter()
            .any(|l| discount.scope.covers(l.service_type, l.resource_type))
        {
            continue;
        }
        let mut offer = Offer {
            discount,
            lines: Vec::with_capacity(lines.len()),
            list_total: zero,
            off_total: zero,
            final_total: zero,
            best: false,
        };
        let mut left = match discount.terms {
            Terms::Reduction(amount) => amount,
            Terms::RateOff(_) => zero,
        };
        for line in lines {
            let taken = if discount.scope.covers(line.service_type, line.resource_type) {
                off(discount.terms, line.list, &mut left).ok_or(MoneyError::Overflow)?
            } else {
                zero
            };
            let final_amount = line.list.checked_sub(taken)?;
            offer.list_total = offer.list_total.checked_add(line.list)?;
            offer.off_total = offer.off_total.checked_add(taken)?;
            offer.final_total = offer.final_total.checked_add(final_amount)?;
            offer.lines.push(LineUnder {
                list: line.list,
                off: taken,
                final_amount,
            });
        }
        out.push(offer);
    }
    let contracts_only = auto_pay && out.iter().any(|o| o.discount.kind.is_contract());
    let best = out
        .iter()
        .enumerate()
        .filter(|(_, o)| !contracts_only || o.discount.kind.is_contract())
        .min_by(|(_, a), (_, b)| rank(a, b))
        .map(|(i, _)| i);
    if let Some(i) = best {
        out[i].best = true;
    }
    out.sort_by(|a, b| {
        b.best
            .cmp(&a.best)
            .then(a.discount.kind.cmp(&b.discount.kind))
            .then(a.discount.id.cmp(&b.discount.id))
    });
    Ok(out)
}

/// One rate discount on one on-demand line.
#[derive(Debug, Clone)]
pub struct UsageOffer<'a> {
    pub discount: &'a Discount,
    /// `list × rate`, half-up to 9 decimals.
    pub off: Decimal,
    pub amount: Decimal,
}

/// The rate discounts covering an on-demand line of `list` (reductions are
/// for period purchases only), the one taking most off first (ties by kind,
/// then id): that one applies.
pub fn usage_offers<'a>(
    discounts: &'a [Discount],
    service_type: &str,
    resource_type: &str,
    list: Decimal,
) -> Vec<UsageOffer<'a>> {
    let mut out: Vec<UsageOffer<'a>> = discounts
        .iter()
        .filter(|d| d.scope.covers(service_type, resource_type))
        .filter_map(|d| match d.terms {
            Terms::RateOff(rate) => {
                let off = rounding::to_nanos(list.checked_mul(rate)?).min(list);
                Some(UsageOffer {
                    discount: d,
                    off,
                    amount: list - off,
                })
            }
            Terms::Reduction(_) => None,
        })
        .collect();
    out.sort_by(|a, b| {
        b.off
            .cmp(&a.off)
            .then(a.discount.kind.cmp(&b.discount.kind))
            .then(a.discount.id.cmp(&b.discount.id))
    });
    out
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used)]
mod tests {
    use chrono::{DateTime, Utc};
    use partner_kernel::ids::DiscountId;
    use partner_kernel::money::Currency;
    use proptest::prelude::*;

    use super::*;
    use crate::discounts::model::{Kind, Scope};

    const KINDS: [Kind; 4] = [
        Kind::VendorContract,
        Kind::DistributorContract,
        Kind::PartnerSet,
        Kind::Promotion,
    ];
    const SERVICES: [(&str, &str); 3] =
        [("compute", "vm"), ("compute", "disk"), ("network", "eip")];

    fn discount(kind: Kind, scope: Scope, terms: Terms) -> Discount {
        Discount {
            id: DiscountId::generate(),
            version: 1,
            kind,
            name: "d".into(),
            partner_id: None,
            customer_id: None,
            scope,
            terms,
            valid_from: DateTime::<Utc>::UNIX_EPOCH,
            valid_until: None,
            updated_by: String::new(),
            updated_at: DateTime::<Utc>::UNIX_EPOCH,
        }
    }

    fn cny(minor: i64) -> Money {
        Money::from_minor(Currency::Cny, minor)
    }

    #[test]
    fn a_rate_rounds_half_up_per_line_and_a_reduction_stops_at_the_line() {
        let lines = [
            Priced {
                service_type: "compute",
                resource_type: "vm",
                list: cny(1_005),
            },
            Priced {
                service_type: "network",
                resource_type: "eip",
                list: cny(300),
            },
        ];
        let rate = discount(
            Kind::PartnerSet,
            Scope::default(),
            Terms::RateOff(Decimal::new(1, 1)),
        );
        let cut = discount(
            Kind::Promotion,
            Scope::default(),
            Terms::Reduction(cny(500)),
        );
        let all = [rate, cut];
        let offers = offers(&all, &lines, false).unwrap();
        // 10 % of 10.05 is 1.005, rounded half-up to 1.01; of 3.00, 0.30.
        let by_kind = |k| offers.iter().find(|o| o.discount.kind == k).unwrap();
        let r = by_kind(Kind::PartnerSet);
        assert_eq!(r.lines[0].off, cny(101));
        assert_eq!(r.lines[1].off, cny(30));
        assert_eq!(r.final_total, cny(1_005 + 300 - 131));
        // 5.00 off the request, line by line: all of it from the 10.05
        // line, nothing left for the 3.00 one.
        let p = by_kind(Kind::Promotion);
        assert_eq!((p.lines[0].off, p.lines[1].off), (cny(500), cny(0)));
        assert_eq!(p.final_total, cny(805));
        assert!(p.best && offers[0].best && !r.best);
        // A reduction larger than the first line spills onto the next.
        let big = [discount(
            Kind::Promotion,
            Scope::default(),
            Terms::Reduction(cny(1_200)),
        )];
        let spilled = super::offers(&big, &lines, false).unwrap();
        assert_eq!(
            (spilled[0].lines[0].off, spilled[0].lines[1].off),
            (cny(1_005), cny(195))
        );
    }

    #[test]
    fn auto_pay_prefers_a_contract_even_when_it_is_dearer() {
        let lines = [Priced {
            service_type: "compute",
            resource_type: "vm",
            list: cny(10_000),
        }];
        let all = [
            discount(
                Kind::PartnerSet,
                Scope::default(),
                Terms::RateOff(Decimal::new(3, 1)),
            ),
            discount(
                Kind::VendorContract,
                Scope::default(),
                Terms::RateOff(Decimal::new(1, 1)),
            ),
        ];
        let plain = offers(&all, &lines, false).unwrap();
        assert_eq!(plain[0].discount.kind, Kind::PartnerSet);
        let auto = offers(&all, &lines, true).unwrap();
        assert!(auto[0].best);
        assert_eq!(auto[0].discount.kind, Kind::VendorContract);
        assert_eq!(auto.iter().filter(|o| o.best).count(), 1);
    }

    #[test]
    fn ties_go_to_the_kind_order_and_uncovered_discounts_have_no_offer() {
        let lines = [Priced {
            service_type: "compute",
            resource_type: "vm",
            list: cny(10_000),
        }];
        let ten = Terms::RateOff(Decimal::new(1, 1));
        let network = Scope {
            service_type: Some("network".into()),
            resource_type: None,
        };
        let all = [
            discount(Kind::Promotion, Scope::default(), ten),
            discount(Kind::DistributorContract, Scope::default(), ten),
            discount(Kind::VendorContract, network, ten),
        ];
        let offers = offers(&all, &lines, false).unwrap();
        assert_eq!(offers.len(), 2);
        assert!(offers[0].best);
        assert_eq!(offers[0].discount.kind, Kind::DistributorContract);
    }

    fn arb_discount() -> impl Strategy<Value = Discount> {
        (
            0usize..4,
            0usize..4,
            prop::bool::ANY,
            1i64..=10_000,
            0i64..200_000,
        )
            .prop_map(|(k, s, is_rate, r, minor)| {
                let scope = match s {
                    0 => Scope::default(),
                    i => Scope {
                        service_type: Some(SERVICES[i - 1].0.into()),
                        resource_type: (i != 1).then(|| SERVICES[i - 1].1.into()),
                    },
                };
                let terms = if is_rate {
                    Terms::RateOff(Decimal::new(r, 4))
                } else {
                    Terms::Reduction(cny(minor))
                };
                discount(KINDS[k], scope, terms)
            })
    }

    proptest! {
        /// For any lines and discounts: final = list − discount per line,
        /// 0 ≤ discount ≤ list, totals are the sums of lines, exactly one
        /// best offer when any offer exists, and (without auto-pay) no offer
        /// is cheaper than the best.
        #[test]
        fn offers_add_up_and_the_best_is_the_cheapest(
            amounts in prop::collection::vec((0usize..3, 0i64..10_000_000), 1..20),
            discounts in prop::collection::vec(arb_discount(), 0..6),
            auto_pay in prop::bool::ANY,
        ) {
            let lines: Vec<Priced> = amounts
                .iter()
                .map(|(s, minor)| Priced {
                    service_type: SERVICES[*s].0,
                    resource_type: SERVICES[*s].1,
                    list: cny(*minor),
                })
                .collect();
            let offers = offers(&discounts, &lines, auto_pay).unwrap();
            for o in &offers {
                let mut sums = (0, 0, 0);
                for (l, under) in lines.iter().zip(&o.lines) {
                    prop_assert_eq!(under.list, l.list);
                    prop_assert!(under.off.minor() >= 0 && under.off.minor() <= l.list.minor());
                    prop_assert_eq!(under.final_amount.minor(), l.list.minor() - under.off.minor());
                    sums = (sums.0 + under.list.minor(), sums.1 + under.off.minor(), sums.2 + under.final_amount.minor());
                }
                prop_assert_eq!(sums, (o.list_total.minor(), o.off_total.minor(), o.final_total.minor()));
                // A fixed reduction is taken once per request, however many lines.
                if let Terms::Reduction(amount) = o.discount.terms {
                    prop_assert!(o.off_total.minor() <= amount.minor());
                }
            }
            prop_assert_eq!(offers.iter().filter(|o| o.best).count(), usize::from(!offers.is_empty()));
            if let Some(best) = offers.iter().find(|o| o.best) {
                prop_assert!(offers[0].best);
                let pool: Vec<_> = if auto_pay && offers.iter().any(|o| o.discount.kind.is_contract()) {
                    prop_assert!(best.discount.kind.is_contract());
                    offers.iter().filter(|o| o.discount.kind.is_contract()).collect()
                } else {
                    offers.iter().collect()
                };
                prop_assert!(pool.iter().all(|o| o.final_total.minor() >= best.final_total.minor()));
            }
        }
    }
}
