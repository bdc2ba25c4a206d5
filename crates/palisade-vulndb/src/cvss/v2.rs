//! CVSS v2.0 base score (FIRST, "A Complete Guide to the Common Vulnerability Scoring System
//! Version 2.0", § 3.2.1), in exact decimal arithmetic.
//!
//! Every v2 weight has at most four decimals, so the whole base equation is exact in scaled
//! integers; rounding "to one decimal" is then the guide's half-up rule on the true value, with no
//! float artefacts (NVD's and the `cvss` reference library's results are the exact ones too).

use super::{MetricDef, Metrics, base, optional};

pub(crate) static METRICS: &[MetricDef] = &[
    base("AV", &["L", "A", "N"]),
    base("AC", &["H", "M", "L"]),
    base("Au", &["M", "S", "N"]),
    base("C", &["N", "P", "C"]),
    base("I", &["N", "P", "C"]),
    base("A", &["N", "P", "C"]),
    // Temporal and environmental metrics: validated, not scored (see the module docs of `cvss`).
    optional("E", &["U", "POC", "F", "H", "ND"]),
    optional("RL", &["OF", "TF", "W", "U", "ND"]),
    optional("RC", &["UC", "UR", "C", "ND"]),
    optional("CDP", &["N", "L", "LM", "MH", "H", "ND"]),
    optional("TD", &["N", "L", "M", "H", "ND"]),
    optional("CR", &["L", "M", "H", "ND"]),
    optional("IR", &["L", "M", "H", "ND"]),
    optional("AR", &["L", "M", "H", "ND"]),
];

/// Weights in thousandths.
fn impact_weight(value: &str) -> i128 {
    match value {
        "P" => 275,
        "C" => 660,
        _ => 0, // N
    }
}

pub(crate) fn base_score(metrics: &Metrics) -> f64 {
    let access_vector: i128 = match metrics.value("AV") {
        "L" => 395,
        "A" => 646,
        _ => 1000, // N
    };
    let access_complexity: i128 = match metrics.value("AC") {
        "H" => 350,
        "M" => 610,
        _ => 710, // L
    };
    let authentication: i128 = match metrics.value("Au") {
        "M" => 450,
        "S" => 560,
        _ => 704, // N
    };
    let unaffected = (1000 - impact_weight(metrics.value("C")))
        * (1000 - impact_weight(metrics.value("I")))
        * (1000 - impact_weight(metrics.value("A")));
    // Impact = 10.41 × (1 − (1−C)(1−I)(1−A)), scaled by 10^2 × 10^9.
    let impact = 1041 * (1_000_000_000 - unaffected);
    if impact == 0 {
        // f(Impact) = 0.
        return 0.0;
    }
    // Exploitability = 20 × AV × AC × Au, scaled by 10^9.
    let exploitability = 20 * access_vector * access_complexity * authentication;
    // (0.6 × Impact + 0.4 × Exploitability − 1.5), scaled by 10^12.
    let sum = 6 * impact + 4 * exploitability * 100 - 1_500_000_000_000;
    // × f(Impact) = 1.176, scaled by 10^15.
    let raw = sum * 1176;
    // Round half up to tenths: 10^15 → 10^1.
    let tenths = (raw + 50_000_000_000_000).div_euclid(100_000_000_000_000);
    (tenths.clamp(0, 100) as f64) / 10.0
}

#[cfg(test)]
mod tests {
    use crate::cvss::parse;

    // Examples from the v2 guide § 3.3.1–3.3.3 (CVE-2002-0392, CVE-2003-0818, CVE-2003-0062).
    #[test]
    fn guide_examples() {
        assert_eq!(parse("AV:N/AC:L/Au:N/C:N/I:N/A:C").unwrap().base_score, 7.8);
        assert_eq!(
            parse("AV:N/AC:L/Au:N/C:C/I:C/A:C").unwrap().base_score,
            10.0
        );
        assert_eq!(parse("AV:L/AC:H/Au:N/C:C/I:C/A:C").unwrap().base_score, 6.2);
        assert_eq!(parse("AV:N/AC:L/Au:N/C:N/I:N/A:N").unwrap().base_score, 0.0);
    }

    #[test]
    fn temporal_metrics_do_not_change_the_base_score() {
        let plain = parse("AV:N/AC:L/Au:N/C:N/I:N/A:C").unwrap();
        let temporal =
            parse("AV:N/AC:L/Au:N/C:N/I:N/A:C/E:F/RL:OF/RC:C/CDP:H/TD:H/CR:M/IR:M/AR:H").unwrap();
        assert_eq!(plain.base_score, temporal.base_score);
    }
}
