//! CVSS v4.0 base score (FIRST, CVSS v4.0 Specification Document § 8 "CVSS v4.0 Scoring"): the
//! vector's macro vector (six equivalence classes EQ1–EQ6) selects a score from the expert-ranked
//! lookup table, and the vector's severity distance from the macro vector's highest-severity
//! vectors interpolates towards the next lower macro vectors.
//!
//! This is a port of the reference implementation, FIRST / Red Hat's cvss-v4-calculator
//! (`cvss40.js`, with `cvss_lookup.js`, `max_composed.js`, `max_severity.js`; BSD-2-Clause,
//! <https://github.com/RedHatProductSecurity/cvss-v4-calculator>, mirrored by FIRST at
//! <https://github.com/FIRSTdotorg/cvss-v4-calculator>), step for step and in the same double
//! arithmetic, so that results match to the bit before rounding.
//!
//! Rounding: the upstream calculator (RedHatProductSecurity/cvss-v4-calculator#67, issue #66,
//! mirrored by the `cvss` Python library's `final_rounding`, RedHatProductSecurity/cvss#65) lifts
//! the interpolated value by 10^-6 before rounding half up, because differences of table
//! scores such as 8.6 − 7.15 land one ulp below an `x.x5` tie. We follow that fix; a calculator
//! without it scores some vectors a tenth lower (e.g. `AV:N/AC:L/AT:N/PR:N/UI:P/VC:H/VI:L/VA:N/
//! SC:H/SI:H/SA:H` is 8.6 here, 8.5 there).

use super::{MetricDef, Metrics, base, optional};

pub(crate) static METRICS: &[MetricDef] = &[
    base("AV", &["N", "A", "L", "P"]),
    base("AC", &["L", "H"]),
    base("AT", &["N", "P"]),
    base("PR", &["N", "L", "H"]),
    base("UI", &["N", "P", "A"]),
    base("VC", &["H", "L", "N"]),
    base("VI", &["H", "L", "N"]),
    base("VA", &["H", "L", "N"]),
    base("SC", &["H", "L", "N"]),
    base("SI", &["H", "L", "N"]),
    base("SA", &["H", "L", "N"]),
    // Threat, environmental and supplemental metrics: validated, not scored (module docs of
    // `cvss`: the base score is CVSS-B).
    optional("E", &["X", "A", "P", "U"]),
    optional("CR", &["X", "H", "M", "L"]),
    optional("IR", &["X", "H", "M", "L"]),
    optional("AR", &["X", "H", "M", "L"]),
    optional("MAV", &["X", "N", "A", "L", "P"]),
    optional("MAC", &["X", "L", "H"]),
    optional("MAT", &["X", "N", "P"]),
    optional("MPR", &["X", "N", "L", "H"]),
    optional("MUI", &["X", "N", "P", "A"]),
    optional("MVC", &["X", "H", "L", "N"]),
    optional("MVI", &["X", "H", "L", "N"]),
    optional("MVA", &["X", "H", "L", "N"]),
    optional("MSC", &["X", "H", "L", "N"]),
    optional("MSI", &["X", "S", "H", "L", "N"]),
    optional("MSA", &["X", "S", "H", "L", "N"]),
    optional("S", &["X", "N", "P"]),
    optional("AU", &["X", "N", "Y"]),
    optional("R", &["X", "A", "U", "I"]),
    optional("V", &["X", "D", "C"]),
    optional("RE", &["X", "L", "M", "H"]),
    optional("U", &["X", "Clear", "Green", "Amber", "Red"]),
];

/// The macro vector scores (`cvss_lookup.js`; spec § 8.2), sorted by macro vector: all 270
/// reachable combinations of EQ1–EQ6 (EQ3 = 2 with EQ6 = 0 cannot occur).
static LOOKUP: &[(&str, f64)] = &[
    ("000000", 10.0),
    ("000001", 9.9),
    ("000010", 9.8),
    ("000011", 9.5),
    ("000020", 9.5),
    ("000021", 9.2),
    ("000100", 10.0),
    ("000101", 9.6),
    ("000110", 9.3),
    ("000111", 8.7),
    ("000120", 9.1),
    ("000121", 8.1),
    ("000200", 9.3),
    ("000201", 9.0),
    ("000210", 8.9),
    ("000211", 8.0),
    ("000220", 8.1),
    ("000221", 6.8),
    ("001000", 9.8),
    ("001001", 9.5),
    ("001010", 9.5),
    ("001011", 9.2),
    ("001020", 9.0),
    ("001021", 8.4),
    ("001100", 9.3),
    ("001101", 9.2),
    ("001110", 8.9),
    ("001111", 8.1),
    ("001120", 8.1),
    ("001121", 6.5),
    ("001200", 8.8),
    ("001201", 8.0),
    ("001210", 7.8),
    ("001211", 7.0),
    ("001220", 6.9),
    ("001221", 4.8),
    ("002001", 9.2),
    ("002011", 8.2),
    ("002021", 7.2),
    ("002101", 7.9),
    ("002111", 6.9),
    ("002121", 5.0),
    ("002201", 6.9),
    ("002211", 5.5),
    ("002221", 2.7),
    ("010000", 9.9),
    ("010001", 9.7),
    ("010010", 9.5),
    ("010011", 9.2),
    ("010020", 9.2),
    ("010021", 8.5),
    ("010100", 9.5),
    ("010101", 9.1),
    ("010110", 9.0),
    ("010111", 8.3),
    ("010120", 8.4),
    ("010121", 7.1),
    ("010200", 9.2),
    ("010201", 8.1),
    ("010210", 8.2),
    ("010211", 7.1),
    ("010220", 7.2),
    ("010221", 5.3),
    ("011000", 9.5),
    ("011001", 9.3),
    ("011010", 9.2),
    ("011011", 8.5),
    ("011020", 8.5),
    ("011021", 7.3),
    ("011100", 9.2),
    ("011101", 8.2),
    ("011110", 8.0),
    ("011111", 7.2),
    ("011120", 7.0),
    ("011121", 5.9),
    ("011200", 8.4),
    ("011201", 7.0),
    ("011210", 7.1),
    ("011211", 5.2),
    ("011220", 5.0),
    ("011221", 3.0),
    ("012001", 8.6),
    ("012011", 7.5),
    ("012021", 5.2),
    ("012101", 7.1),
    ("012111", 5.2),
    ("012121", 2.9),
    ("012201", 6.3),
    ("012211", 2.9),
    ("012221", 1.7),
    ("100000", 9.8),
    ("100001", 9.5),
    ("100010", 9.4),
    ("100011", 8.7),
    ("100020", 9.1),
    ("100021", 8.1),
    ("100100", 9.4),
    ("100101", 8.9),
    ("100110", 8.6),
    ("100111", 7.4),
    ("100120", 7.7),
    ("100121", 6.4),
    ("100200", 8.7),
    ("100201", 7.5),
    ("100210", 7.4),
    ("100211", 6.3),
    ("100220", 6.3),
    ("100221", 4.9),
    ("101000", 9.4),
    ("101001", 8.9),
    ("101010", 8.8),
    ("101011", 7.7),
    ("101020", 7.6),
    ("101021", 6.7),
    ("101100", 8.6),
    ("101101", 7.6),
    ("101110", 7.4),
    ("101111", 5.8),
    ("101120", 5.9),
    ("101121", 5.0),
    ("101200", 7.2),
    ("101201", 5.7),
    ("101210", 5.7),
    ("101211", 5.2),
    ("101220", 5.2),
    ("101221", 2.5),
    ("102001", 8.3),
    ("102011", 7.0),
    ("102021", 5.4),
    ("102101", 6.5),
    ("102111", 5.8),
    ("102121", 2.6),
    ("102201", 5.3),
    ("102211", 2.1),
    ("102221", 1.3),
    ("110000", 9.5),
    ("110001", 9.0),
    ("110010", 8.8),
    ("110011", 7.6),
    ("110020", 7.6),
    ("110021", 7.0),
    ("110100", 9.0),
    ("110101", 7.7),
    ("110110", 7.5),
    ("110111", 6.2),
    ("110120", 6.1),
    ("110121", 5.3),
    ("110200", 7.7),
    ("110201", 6.6),
    ("110210", 6.8),
    ("110211", 5.9),
    ("110220", 5.2),
    ("110221", 3.0),
    ("111000", 8.9),
    ("111001", 7.8),
    ("111010", 7.6),
    ("111011", 6.7),
    ("111020", 6.2),
    ("111021", 5.8),
    ("111100", 7.4),
    ("111101", 5.9),
    ("111110", 5.7),
    ("111111", 5.7),
    ("111120", 4.7),
    ("111121", 2.3),
    ("111200", 6.1),
    ("111201", 5.2),
    ("111210", 5.7),
    ("111211", 2.9),
    ("111220", 2.4),
    ("111221", 1.6),
    ("112001", 7.1),
    ("112011", 5.9),
    ("112021", 3.0),
    ("112101", 5.8),
    ("112111", 2.6),
    ("112121", 1.5),
    ("112201", 2.3),
    ("112211", 1.3),
    ("112221", 0.6),
    ("200000", 9.3),
    ("200001", 8.7),
    ("200010", 8.6),
    ("200011", 7.2),
    ("200020", 7.5),
    ("200021", 5.8),
    ("200100", 8.6),
    ("200101", 7.4),
    ("200110", 7.4),
    ("200111", 6.1),
    ("200120", 5.6),
    ("200121", 3.4),
    ("200200", 7.0),
    ("200201", 5.4),
    ("200210", 5.2),
    ("200211", 4.0),
    ("200220", 4.0),
    ("200221", 2.2),
    ("201000", 8.5),
    ("201001", 7.5),
    ("201010", 7.4),
    ("201011", 5.5),
    ("201020", 6.2),
    ("201021", 5.1),
    ("201100", 7.2),
    ("201101", 5.7),
    ("201110", 5.5),
    ("201111", 4.1),
    ("201120", 4.6),
    ("201121", 1.9),
    ("201200", 5.3),
    ("201201", 3.6),
    ("201210", 3.4),
    ("201211", 1.9),
    ("201220", 1.9),
    ("201221", 0.8),
    ("202001", 6.4),
    ("202011", 5.1),
    ("202021", 2.0),
    ("202101", 4.7),
    ("202111", 2.1),
    ("202121", 1.1),
    ("202201", 2.4),
    ("202211", 0.9),
    ("202221", 0.4),
    ("210000", 8.8),
    ("210001", 7.5),
    ("210010", 7.3),
    ("210011", 5.3),
    ("210020", 6.0),
    ("210021", 5.0),
    ("210100", 7.3),
    ("210101", 5.5),
    ("210110", 5.9),
    ("210111", 4.0),
    ("210120", 4.1),
    ("210121", 2.0),
    ("210200", 5.4),
    ("210201", 4.3),
    ("210210", 4.5),
    ("210211", 2.2),
    ("210220", 2.0),
    ("210221", 1.1),
    ("211000", 7.5),
    ("211001", 5.5),
    ("211010", 5.8),
    ("211011", 4.5),
    ("211020", 4.0),
    ("211021", 2.1),
    ("211100", 6.1),
    ("211101", 5.1),
    ("211110", 4.8),
    ("211111", 1.8),
    ("211120", 2.0),
    ("211121", 0.9),
    ("211200", 4.6),
    ("211201", 1.8),
    ("211210", 1.7),
    ("211211", 0.7),
    ("211220", 0.8),
    ("211221", 0.2),
    ("212001", 5.3),
    ("212011", 2.4),
    ("212021", 1.4),
    ("212101", 2.4),
    ("212111", 1.2),
    ("212121", 0.5),
    ("212201", 1.0),
    ("212211", 0.3),
    ("212221", 0.1),
];

/// The highest-severity vectors of each EQ level (`max_composed.js`), in the reference's order:
/// the first composed vector that dominates the scored one is the one measured from.
static EQ1_MAXES: [&[&str]; 3] = [
    &["AV:N/PR:N/UI:N"],
    &["AV:A/PR:N/UI:N", "AV:N/PR:L/UI:N", "AV:N/PR:N/UI:P"],
    &["AV:P/PR:N/UI:N", "AV:A/PR:L/UI:P"],
];
static EQ2_MAXES: [&[&str]; 2] = [&["AC:L/AT:N"], &["AC:H/AT:N", "AC:L/AT:P"]];
/// By EQ3, then EQ6 (EQ3 and EQ6 are scored jointly).
static EQ3_EQ6_MAXES: [[&[&str]; 2]; 3] = [
    [
        &["VC:H/VI:H/VA:H/CR:H/IR:H/AR:H"],
        &[
            "VC:H/VI:H/VA:L/CR:M/IR:M/AR:H",
            "VC:H/VI:H/VA:H/CR:M/IR:M/AR:M",
        ],
    ],
    [
        &[
            "VC:L/VI:H/VA:H/CR:H/IR:H/AR:H",
            "VC:H/VI:L/VA:H/CR:H/IR:H/AR:H",
        ],
        &[
            "VC:L/VI:H/VA:L/CR:H/IR:M/AR:H",
            "VC:L/VI:H/VA:H/CR:H/IR:M/AR:M",
            "VC:H/VI:L/VA:H/CR:M/IR:H/AR:M",
            "VC:H/VI:L/VA:L/CR:M/IR:H/AR:H",
            "VC:L/VI:L/VA:H/CR:H/IR:H/AR:M",
        ],
    ],
    [&[], &["VC:L/VI:L/VA:L/CR:H/IR:H/AR:H"]],
];
static EQ4_MAXES: [&[&str]; 3] = [
    &["SC:H/SI:S/SA:S"],
    &["SC:H/SI:H/SA:H"],
    &["SC:L/SI:L/SA:L"],
];
// EQ5's maxima (`E:A`, `E:P`, `E:U`) are one vector per level and E has no severity distance in
// the reference (its distance is always 0), so they do not take part in the search.

/// The depth of each EQ level in steps of 0.1 (`max_severity.js`: "max severity distances in EQs
/// MacroVectors (+1)").
fn max_severity(eq: usize, level: u8, eq6: u8) -> f64 {
    let steps: u8 = match (eq, level, eq6) {
        (1, 0, _) => 1,
        (1, 1, _) => 4,
        (1, _, _) => 5,
        (2, 0, _) => 1,
        (2, _, _) => 2,
        (3, 0, 0) => 7,
        (3, 0, _) => 6,
        (3, 1, _) => 8,
        (3, _, _) => 10,
        (4, 0, _) => 6,
        (4, 1, _) => 5,
        (_, _, _) => 4,
    };
    // The reference multiplies the integer depth by the 0.1 step in doubles; so do we.
    f64::from(steps) * STEP
}

const STEP: f64 = 0.1;

/// Metric value levels (`METRIC_LEVELS` of the reference): the severity distance between two
/// vectors is the sum of these differences.
fn level(metric: &str, value: &str) -> f64 {
    match (metric, value) {
        ("AV", "N") | ("PR", "N") | ("UI", "N") | ("AC", "L") | ("AT", "N") => 0.0,
        ("AV", "A") | ("PR", "L") | ("UI", "P") | ("AC", "H") | ("AT", "P") => 0.1,
        ("AV", "L") | ("PR", "H") | ("UI", "A") => 0.2,
        ("AV", "P") => 0.3,
        ("VC" | "VI" | "VA" | "CR" | "IR" | "AR", "H") => 0.0,
        ("VC" | "VI" | "VA", "L") | ("CR" | "IR" | "AR", "M") => 0.1,
        ("VC" | "VI" | "VA", "N") | ("CR" | "IR" | "AR", "L") => 0.2,
        ("SI" | "SA", "S") => 0.0,
        ("SC" | "SI" | "SA", "H") => 0.1,
        ("SC" | "SI" | "SA", "L") => 0.2,
        ("SC" | "SI" | "SA", "N") => 0.3,
        // The reference reads `undefined` here, which poisons the arithmetic with NaN; parsing
        // and the max-vector tables never produce such a pair.
        _ => f64::NAN,
    }
}

/// The metrics that take part in the severity distance, in the reference's order.
const DISTANCE_METRICS: [&str; 14] = [
    "AV", "PR", "UI", "AC", "AT", "VC", "VI", "VA", "SC", "SI", "SA", "CR", "IR", "AR",
];

/// The value the scoring reads for each metric (the reference's `getEffectiveMetricValue`). For
/// the base score the threat and environmental metrics are all `X`, so `E` counts as `A`, the
/// security requirements as `H`, and every base metric as itself.
struct Effective {
    values: [&'static str; 14],
    exploit_maturity: &'static str,
}

impl Effective {
    fn base(metrics: &Metrics) -> Effective {
        let mut values = [""; 14];
        for (value, metric) in values.iter_mut().zip(DISTANCE_METRICS) {
            *value = match metric {
                "CR" | "IR" | "AR" => "H",
                base_metric => metrics.value(base_metric),
            };
        }
        Effective {
            values,
            exploit_maturity: "A",
        }
    }

    fn get(&self, metric: &str) -> &'static str {
        DISTANCE_METRICS
            .iter()
            .zip(self.values)
            .find(|(known, _)| **known == metric)
            .map_or("", |(_, value)| value)
    }

    fn macro_vector(&self) -> [u8; 6] {
        let m = |metric| self.get(metric);
        let eq1 = if m("AV") == "N" && m("PR") == "N" && m("UI") == "N" {
            0
        } else if (m("AV") == "N" || m("PR") == "N" || m("UI") == "N") && m("AV") != "P" {
            1
        } else {
            2
        };
        let eq2 = if m("AC") == "L" && m("AT") == "N" {
            0
        } else {
            1
        };
        let eq3 = if m("VC") == "H" && m("VI") == "H" {
            0
        } else if m("VC") == "H" || m("VI") == "H" || m("VA") == "H" {
            1
        } else {
            2
        };
        // The reference tests MSI/MSA for `S` (Safety exists only as a modified value); the
        // effective SI/SA carry it.
        let eq4 = if m("SI") == "S" || m("SA") == "S" {
            0
        } else if m("SC") == "H" || m("SI") == "H" || m("SA") == "H" {
            1
        } else {
            2
        };
        let eq5 = match self.exploit_maturity {
            "A" => 0,
            "P" => 1,
            _ => 2, // U
        };
        let eq6 = if (m("CR") == "H" && m("VC") == "H")
            || (m("IR") == "H" && m("VI") == "H")
            || (m("AR") == "H" && m("VA") == "H")
        {
            0
        } else {
            1
        };
        [eq1, eq2, eq3, eq4, eq5, eq6]
    }

    /// Severity distances (effective level − max-vector level) per metric, in
    /// [`DISTANCE_METRICS`] order.
    fn distances(&self, max_parts: [&str; 4]) -> [f64; 14] {
        let mut distances = [0.0; 14];
        for ((distance, metric), value) in
            distances.iter_mut().zip(DISTANCE_METRICS).zip(self.values)
        {
            let max_value = max_parts
                .iter()
                .find_map(|part| metric_in(part, metric))
                .unwrap_or("");
            *distance = level(metric, value) - level(metric, max_value);
        }
        distances
    }
}

/// The value of `metric` in a `K:V/K:V` max-vector fragment.
fn metric_in<'a>(fragment: &'a str, metric: &str) -> Option<&'a str> {
    fragment
        .split('/')
        .filter_map(|component| component.split_once(':'))
        .find(|(key, _)| *key == metric)
        .map(|(_, value)| value)
}

fn lookup(macro_vector: [u8; 6]) -> Option<f64> {
    let key = macro_vector.map(|digit| b'0' + digit);
    LOOKUP
        .binary_search_by(|(known, _)| known.as_bytes().cmp(&key[..]))
        .ok()
        .and_then(|index| LOOKUP.get(index))
        .map(|(_, score)| *score)
}

fn with(macro_vector: [u8; 6], eq: usize, bump: u8) -> [u8; 6] {
    let mut next = macro_vector;
    if let Some(digit) = next.get_mut(eq) {
        *digit += bump;
    }
    next
}

pub(crate) fn base_score(metrics: &Metrics) -> f64 {
    score(&Effective::base(metrics))
}

fn score(effective: &Effective) -> f64 {
    // No impact on the vulnerable or any subsequent system: 0 by definition.
    if ["VC", "VI", "VA", "SC", "SI", "SA"]
        .iter()
        .all(|metric| effective.get(metric) == "N")
    {
        return 0.0;
    }
    let macro_vector = effective.macro_vector();
    let [eq1, eq2, eq3, eq4, _eq5, eq6] = macro_vector;
    let Some(value) = lookup(macro_vector) else {
        // Unreachable: the table holds every macro vector `macro_vector` can produce (a unit test
        // enumerates them); 0.0 keeps a future table mistake from panicking a scan.
        return 0.0;
    };

    // 1a. The maximal scoring difference of each EQ: the score drop to the next lower macro
    // vector, when there is one.
    let lower_eq1 = lookup(with(macro_vector, 0, 1));
    let lower_eq2 = lookup(with(macro_vector, 1, 1));
    let lower_eq3_eq6 = match (eq3, eq6) {
        (1, 1) | (0, 1) => lookup(with(macro_vector, 2, 1)),
        (1, 0) => lookup(with(macro_vector, 5, 1)),
        // 00 → 01 or 10: the reference takes the higher-scoring of the two.
        (0, 0) => {
            match (
                lookup(with(macro_vector, 5, 1)),
                lookup(with(macro_vector, 2, 1)),
            ) {
                (Some(left), Some(right)) => Some(left.max(right)),
                // JavaScript's Math.max yields NaN when either side is missing.
                _ => None,
            }
        }
        // 21 → 32 does not exist.
        _ => lookup(with(with(macro_vector, 2, 1), 5, 1)),
    };
    let lower_eq4 = lookup(with(macro_vector, 3, 1));
    let lower_eq5 = lookup(with(macro_vector, 4, 1));

    // 1b. The severity distance from the first highest-severity vector of this macro vector that
    // is at least as severe as the scored one on every metric.
    let eq1_maxes = EQ1_MAXES.get(usize::from(eq1)).copied().unwrap_or(&[]);
    let eq2_maxes = EQ2_MAXES.get(usize::from(eq2)).copied().unwrap_or(&[]);
    let eq3_eq6_maxes = EQ3_EQ6_MAXES
        .get(usize::from(eq3))
        .and_then(|by_eq6| by_eq6.get(usize::from(eq6)))
        .copied()
        .unwrap_or(&[]);
    let eq4_maxes = EQ4_MAXES.get(usize::from(eq4)).copied().unwrap_or(&[]);
    let mut distances = [f64::NAN; 14];
    'search: for eq1_max in eq1_maxes {
        for eq2_max in eq2_maxes {
            for eq3_eq6_max in eq3_eq6_maxes {
                for eq4_max in eq4_maxes {
                    distances = effective.distances([eq1_max, eq2_max, eq3_eq6_max, eq4_max]);
                    // Like the reference, when no max vector dominates, the last one tried is
                    // used.
                    if distances.iter().all(|distance| *distance >= 0.0) {
                        break 'search;
                    }
                }
            }
        }
    }
    let [av, pr, ui, ac, at, vc, vi, va, sc, si, sa, cr, ir, ar] = distances;
    let distance_eq1 = av + pr + ui;
    let distance_eq2 = ac + at;
    let distance_eq3_eq6 = vc + vi + va + cr + ir + ar;
    let distance_eq4 = sc + si + sa;

    // 1c/d. Each EQ's share of its scoring difference, proportional to the distance over the
    // depth of the level; EQ5 always contributes 0 but counts in the mean when it has a lower
    // macro vector.
    let mut existing_lower = 0u8;
    let mut normalized_sum = 0.0;
    let proportional = [
        (lower_eq1, distance_eq1, max_severity(1, eq1, eq6)),
        (lower_eq2, distance_eq2, max_severity(2, eq2, eq6)),
        (lower_eq3_eq6, distance_eq3_eq6, max_severity(3, eq3, eq6)),
        (lower_eq4, distance_eq4, max_severity(4, eq4, eq6)),
    ];
    for (lower, distance, depth) in proportional {
        if let Some(lower) = lower {
            existing_lower += 1;
            let available = value - lower;
            normalized_sum += available * (distance / depth);
        }
    }
    if let Some(lower) = lower_eq5 {
        existing_lower += 1;
        normalized_sum += (value - lower) * 0.0;
    }

    // 2. The mean of the proportional distances; 3. subtracted from the macro vector's score.
    let mean_distance = if existing_lower == 0 {
        0.0
    } else {
        normalized_sum / f64::from(existing_lower)
    };
    round_tenth((value - mean_distance).clamp(0.0, 10.0))
}

/// Half-up rounding to one decimal after the upstream 10^-6 lift (see the module docs).
fn round_tenth(value: f64) -> f64 {
    ((value + 1e-6) * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cvss::parse;

    #[test]
    fn lookup_table_is_sorted_and_complete() {
        assert_eq!(LOOKUP.len(), 270);
        assert!(LOOKUP.windows(2).all(|pair| pair[0].0 < pair[1].0));
        // Every macro vector a vector can produce has a score.
        for eq1 in 0..3 {
            for eq2 in 0..2 {
                for eq3 in 0..3 {
                    for eq4 in 0..3 {
                        for eq5 in 0..3 {
                            for eq6 in 0..2 {
                                let reachable = !(eq3 == 2 && eq6 == 0);
                                let found = lookup([eq1, eq2, eq3, eq4, eq5, eq6]).is_some();
                                assert_eq!(found, reachable, "{eq1}{eq2}{eq3}{eq4}{eq5}{eq6}");
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn macro_vector_table_value_is_the_score_of_its_highest_vector() {
        // Macro vector 000000 needs MSI:S/MSA:S, which the base score never sees; the most
        // severe base vector falls in 000100, whose table score is 10 and whose distance is 0.
        let top = parse("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H").unwrap();
        assert_eq!(top.base_score, 10.0);
    }

    #[test]
    fn upstream_rounding_fix_applies() {
        // RedHatProductSecurity/cvss-v4-calculator#66: 8.5499999999999 before rounding.
        let vector = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:P/VC:H/VI:L/VA:N/SC:H/SI:H/SA:H";
        assert_eq!(parse(vector).unwrap().base_score, 8.6);
    }

    #[test]
    fn threat_environmental_supplemental_metrics_are_ignored() {
        let base = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N";
        let full = format!(
            "{base}/E:U/CR:L/IR:L/AR:L/MAV:P/MAC:H/MAT:P/MPR:H/MUI:A/MVC:N/MVI:N/MVA:N/MSC:N/MSI:S/MSA:S/S:P/AU:Y/R:I/V:C/RE:H/U:Red"
        );
        assert_eq!(parse(&full).unwrap().base_score, 9.3);
        assert!(parse(&format!("{base}/U:red")).is_err());
    }

    #[test]
    fn no_impact_is_zero() {
        let vector = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N";
        assert_eq!(parse(vector).unwrap().base_score, 0.0);
    }
}
