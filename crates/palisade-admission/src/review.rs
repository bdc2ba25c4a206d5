//! `AdmissionReview` in and out. The API server sends the review in the first version listed in the
//! webhook's `admissionReviewVersions` it supports and requires the answer in that same version; the
//! two versions (`v1`, `v1beta1`) share the request and response shapes, so only `apiVersion`
//! differs on the way back.

use palisade_policy::AdmissionRequest;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value, json};

use crate::decision::Verdict;

pub const V1: &str = "admission.k8s.io/v1";
pub const V1BETA1: &str = "admission.k8s.io/v1beta1";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewVersion {
    V1,
    V1Beta1,
}

impl ReviewVersion {
    pub fn api_version(self) -> &'static str {
        match self {
            ReviewVersion::V1 => V1,
            ReviewVersion::V1Beta1 => V1BETA1,
        }
    }
}

/// A parsed `AdmissionReview` carrying a request.
#[derive(Debug, Clone, PartialEq)]
pub struct Review {
    pub version: ReviewVersion,
    pub request: AdmissionRequest,
}

/// Why a body is not an `AdmissionReview` this webhook can answer; each becomes an HTTP 400 whose
/// JSON body carries the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewError {
    #[error("body is not a valid AdmissionReview: {0}")]
    Json(String),
    #[error("AdmissionReview has no apiVersion")]
    MissingApiVersion,
    #[error(
        "unsupported AdmissionReview apiVersion `{0}` (expected admission.k8s.io/v1 or admission.k8s.io/v1beta1)"
    )]
    UnsupportedVersion(String),
    #[error("expected kind `AdmissionReview`, got `{0}`")]
    WrongKind(String),
    #[error("AdmissionReview has no request")]
    MissingRequest,
    #[error("AdmissionReview request has no uid")]
    MissingUid,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    #[serde(default)]
    api_version: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    request: Option<ObjectOnly<AdmissionRequest>>,
}

/// A struct read only from a JSON object. Derived `Deserialize` also accepts a struct written as
/// an array of its fields in order, which no API server sends; accepting it would let
/// `["admission.k8s.io/v1", "AdmissionReview", …]` pass as a review.
struct ObjectOnly<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for ObjectOnly<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
            type Value = T;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map))
            }
        }

        deserializer
            .deserialize_map(ObjectVisitor(PhantomData))
            .map(ObjectOnly)
    }
}

/// Parses an `AdmissionReview` body. Pure and total: any byte string gives `Ok` or a
/// [`ReviewError`], never a panic (serde_json's recursion limit turns nesting bombs into errors);
/// this is the function a fuzz target drives.
pub fn parse_review(bytes: &[u8]) -> Result<Review, ReviewError> {
    let ObjectOnly(envelope): ObjectOnly<Envelope> =
        serde_json::from_slice(bytes).map_err(|e| ReviewError::Json(e.to_string()))?;
    let version = match envelope.api_version.as_deref() {
        None | Some("") => return Err(ReviewError::MissingApiVersion),
        Some(V1) => ReviewVersion::V1,
        Some(V1BETA1) => ReviewVersion::V1Beta1,
        Some(other) => return Err(ReviewError::UnsupportedVersion(other.to_string())),
    };
    match envelope.kind.as_deref() {
        Some("AdmissionReview") => {}
        other => return Err(ReviewError::WrongKind(other.unwrap_or("").to_string())),
    }
    let ObjectOnly(request) = envelope.request.ok_or(ReviewError::MissingRequest)?;
    // The API server matches the answer to its call by uid; a review without one cannot be answered.
    if request.uid.is_empty() {
        return Err(ReviewError::MissingUid);
    }
    Ok(Review { version, request })
}

/// The `AdmissionReview` answering `uid` in `version`.
pub fn render_response(version: ReviewVersion, uid: &str, verdict: &Verdict) -> Value {
    let mut response = Map::new();
    response.insert("uid".into(), Value::from(uid));
    response.insert("allowed".into(), Value::from(verdict.allowed));
    if let Some(status) = &verdict.status {
        response.insert(
            "status".into(),
            json!({
                "code": status.code,
                "message": status.message,
                "reason": status.reason,
            }),
        );
    }
    if !verdict.warnings.is_empty() {
        response.insert("warnings".into(), Value::from(verdict.warnings.clone()));
    }
    json!({
        "apiVersion": version.api_version(),
        "kind": "AdmissionReview",
        "response": response,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const POD_REVIEW: &str = r#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview",
        "request":{"uid":"705ab4f5-6393-11e8-b7cc-42010a800002",
        "kind":{"group":"","version":"v1","kind":"Pod"},
        "resource":{"group":"","version":"v1","resource":"pods"},
        "name":"web","namespace":"shop","operation":"CREATE",
        "userInfo":{"username":"admin"},
        "object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web"},
          "spec":{"containers":[{"name":"nginx","image":"nginx","securityContext":{"privileged":true}}]}},
        "dryRun":false}}"#;

    #[test]
    fn a_v1_review_parses() {
        let review = parse_review(POD_REVIEW.as_bytes()).unwrap();
        assert_eq!(review.version, ReviewVersion::V1);
        assert_eq!(review.request.uid, "705ab4f5-6393-11e8-b7cc-42010a800002");
        assert_eq!(review.request.kind.kind, "Pod");
        assert_eq!(review.request.namespace, "shop");
    }

    #[test]
    fn v1beta1_is_recognised() {
        let body = POD_REVIEW.replace("admission.k8s.io/v1", "admission.k8s.io/v1beta1");
        assert_eq!(
            parse_review(body.as_bytes()).unwrap().version,
            ReviewVersion::V1Beta1
        );
    }

    #[test]
    fn each_defect_is_named() {
        let cases: &[(&str, ReviewError)] = &[
            (
                r#"{"kind":"AdmissionReview","request":{"uid":"1"}}"#,
                ReviewError::MissingApiVersion,
            ),
            (
                r#"{"apiVersion":"admission.k8s.io/v2","kind":"AdmissionReview","request":{"uid":"1"}}"#,
                ReviewError::UnsupportedVersion("admission.k8s.io/v2".into()),
            ),
            (
                r#"{"apiVersion":"admission.k8s.io/v1","kind":"Pod","request":{"uid":"1"}}"#,
                ReviewError::WrongKind("Pod".into()),
            ),
            (
                r#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#,
                ReviewError::MissingRequest,
            ),
            (
                r#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":null}"#,
                ReviewError::MissingRequest,
            ),
            (
                r#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"name":"x"}}"#,
                ReviewError::MissingUid,
            ),
        ];
        for (body, expected) in cases {
            assert_eq!(
                parse_review(body.as_bytes()).as_ref(),
                Err(expected),
                "{body}"
            );
        }
        assert!(matches!(parse_review(b"{"), Err(ReviewError::Json(_))));
        assert!(matches!(parse_review(b"[]"), Err(ReviewError::Json(_))));
        let as_array = r#"["admission.k8s.io/v1","AdmissionReview",{"uid":"1"}]"#;
        assert!(matches!(
            parse_review(as_array.as_bytes()),
            Err(ReviewError::Json(_))
        ));
        let request_as_array =
            r#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":["1"]}"#;
        assert!(matches!(
            parse_review(request_as_array.as_bytes()),
            Err(ReviewError::Json(_))
        ));
        let bad_operation = POD_REVIEW.replace("\"CREATE\"", "\"EXPLODE\"");
        let Err(ReviewError::Json(message)) = parse_review(bad_operation.as_bytes()) else {
            panic!("an unknown operation must be rejected");
        };
        assert!(message.contains("EXPLODE"), "{message}");
    }

    #[test]
    fn the_response_echoes_version_and_uid() {
        let verdict = Verdict {
            allowed: true,
            status: None,
            warnings: vec!["[p] careful".into()],
        };
        let review = render_response(ReviewVersion::V1Beta1, "abc", &verdict);
        assert_eq!(review["apiVersion"], V1BETA1);
        assert_eq!(review["kind"], "AdmissionReview");
        assert_eq!(review["response"]["uid"], "abc");
        assert_eq!(review["response"]["allowed"], true);
        assert_eq!(review["response"]["warnings"][0], "[p] careful");
        assert!(review["response"].get("status").is_none());
    }
}
