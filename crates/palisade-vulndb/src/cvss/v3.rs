//! CVSS v3.0 and v3.1 base score (FIRST, CVSS v3.1 Specification Document § 7.1 and Appendix A;
//! CVSS v3.0 Specification Document § 8.1).
//!
//! The equations and weights are the same in both versions; only `Roundup` differs. v3.0 defines
//! it as "the smallest number, specified to one decimal place, that is equal to or higher than its
//! input", which FIRST's v3.0 calculator (`cvsscalc30.js`) implements as `Math.ceil(x * 10) / 10`
//! on doubles — so a sum landing one ulp above a tenth (4.000000000000001) rounds up to 4.1. v3.1
//! fixed this with an integer-based Roundup (Appendix A), reproduced here verbatim. Both follow
//! the reference calculators' double arithmetic, operation for operation.

use super::{MetricDef, Metrics, base, optional};

pub(crate) static METRICS: &[MetricDef] = &[
    base("AV", &["N", "A", "L", "P"]),
    base("AC", &["L", "H"]),
    base("PR", &["N", "L", "H"]),
    base("UI", &["N", "R"]),
    base("S", &["U", "C"]),
    base("C", &["H", "L", "N"]),
    base("I", &["H", "L", "N"]),
    base("A", &["H", "L", "N"]),
    // Temporal and environmental metrics: validated, not scored (see the module docs of `cvss`).
    optional("E", &["X", "U", "P", "F", "H"]),
    optional("RL", &["X", "O", "T", "W", "U"]),
    optional("RC", &["X", "U", "R", "C"]),
    optional("CR", &["X", "L", "M", "H"]),
    optional("IR", &["X", "L", "M", "H"]),
    optional("AR", &["X", "L", "M", "H"]),
    optional("MAV", &["X", "N", "A", "L", "P"]),
    optional("MAC", &["X", "L", "H"]),
    optional("MPR", &["X", "N", "L", "H"]),
    optional("MUI", &["X", "N", "R"]),
    optional("MS", &["X", "U", "C"]),
    optional("MC", &["X", "N", "L", "H"]),
    optional("MI", &["X", "N", "L", "H"]),
    optional("MA", &["X", "N", "L", "H"]),
];

/// Which version's `Roundup` to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rounding {
    V3_0,
    V3_1,
}

fn impact_weight(value: &str) -> f64 {
    match value {
        "H" => 0.56,
        "L" => 0.22,
        _ => 0.0, // N
    }
}

pub(crate) fn base_score(metrics: &Metrics, rounding: Rounding) -> f64 {
    let scope_changed = metrics.value("S") == "C";
    let attack_vector = match metrics.value("AV") {
        "N" => 0.85,
        "A" => 0.62,
        "L" => 0.55,
        _ => 0.2, // P
    };
    let attack_complexity = match metrics.value("AC") {
        "L" => 0.77,
        _ => 0.44, // H
    };
    // Privileges Required weighs more when the scope changes (§ 7.4).
    let privileges_required = match (metrics.value("PR"), scope_changed) {
        ("N", _) => 0.85,
        ("L", false) => 0.62,
        ("L", true) => 0.68,
        (_, false) => 0.27, // H
        (_, true) => 0.5,
    };
    let user_interaction = match metrics.value("UI") {
        "N" => 0.85,
        _ => 0.62, // R
    };
    let iss = 1.0
        - ((1.0 - impact_weight(metrics.value("C")))
            * (1.0 - impact_weight(metrics.value("I")))
            * (1.0 - impact_weight(metrics.value("A"))));
    let impact = if scope_changed {
        7.52 * (iss - 0.029) - 3.25 * (iss - 0.02f64).powf(15.0)
    } else {
        6.42 * iss
    };
    let exploitability =
        8.22 * attack_vector * attack_complexity * privileges_required * user_interaction;
    if impact <= 0.0 {
        return 0.0;
    }
    let raw = if scope_changed {
        ((impact + exploitability) * 1.08).min(10.0)
    } else {
        (impact + exploitability).min(10.0)
    };
    match rounding {
        Rounding::V3_0 => roundup_v30(raw),
        Rounding::V3_1 => roundup_v31(raw),
    }
}

/// v3.0's Roundup as FIRST's v3.0 calculator computes it.
fn roundup_v30(value: f64) -> f64 {
    (value * 10.0).ceil() / 10.0
}

/// v3.1 Appendix A: round to five decimals as an integer first, so that float noise below 10^-5
/// cannot push a value to the next tenth.
fn roundup_v31(value: f64) -> f64 {
    // `value` is within 0..=10 here, so the integer conversion cannot saturate.
    let int_input = (value * 100_000.0).round() as i64;
    if int_input % 10_000 == 0 {
        int_input as f64 / 100_000.0
    } else {
        ((int_input / 10_000) + 1) as f64 / 10.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cvss::parse;

    // Appendix A's own examples for Roundup.
    #[test]
    fn roundup_definitions() {
        assert_eq!(roundup_v31(4.02), 4.1);
        assert_eq!(roundup_v31(4.00), 4.0);
        assert_eq!(roundup_v31(4.000000000000001), 4.0);
        assert_eq!(roundup_v30(4.000000000000001), 4.1);
        assert_eq!(roundup_v30(4.02), 4.1);
    }

    #[test]
    fn temporal_and_environmental_metrics_are_ignored() {
        let base = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";
        let full = format!(
            "{base}/E:U/RL:O/RC:U/CR:L/IR:L/AR:L/MAV:P/MAC:H/MPR:H/MUI:R/MS:C/MC:N/MI:N/MA:N"
        );
        assert_eq!(parse(&full).unwrap().base_score, 9.8);
        assert_eq!(parse(base).unwrap().base_score, 9.8);
    }

    #[test]
    fn no_impact_scores_zero() {
        assert_eq!(
            parse("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:N/I:N/A:N")
                .unwrap()
                .base_score,
            0.0
        );
    }
}
