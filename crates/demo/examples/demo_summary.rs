//! Prints the demo organisation's tier mix and times the synthetic generator.
//! Run with `cargo run --release -p mamori-demo --example demo_summary`.

use std::collections::BTreeMap;
use std::time::Instant;

use mamori_demo::{demo_organisation, synthetic_vendors};
use mamori_domain::{assess, TieringPolicy};

fn main() {
    let policy = TieringPolicy::builtin();
    let org = demo_organisation();
    let mut tiers = BTreeMap::new();
    let mut types = BTreeMap::new();
    for vendor in &org.vendors {
        let tier = assess(&policy, vendor.risk_profile()).tier;
        *tiers.entry(tier).or_insert(0usize) += 1;
        *types.entry(vendor.vendor_type).or_insert(0usize) += 1;
    }
    let total = org.vendors.len();
    println!("{}: {} people, {total} vendors", org.name, org.people.len());
    for (tier, count) in tiers.iter().rev() {
        let share = *count as f64 * 100.0 / total as f64;
        println!("  {:<9} {count:>4}  ({share:.1}%)", tier.as_str());
    }
    for (vendor_type, count) in &types {
        println!("  {:<16} {count:>4}", vendor_type.as_str());
    }

    let started = Instant::now();
    let vendors = synthetic_vendors(100_000, 1);
    let elapsed = started.elapsed();
    println!(
        "synthetic_vendors(100_000, 1): {} vendors in {:.1} ms",
        vendors.len(),
        elapsed.as_secs_f64() * 1000.0
    );
}
