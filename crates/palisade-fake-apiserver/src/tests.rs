//! The stand-in checked against the real server's recordings: where kube-apiserver's answer was
//! recorded, the generated answer must be the same.

use std::path::Path;

use serde_json::Value;

use crate::api::{Api, Behaviour, GroupResource, Incoming, Reply};
use crate::recording::{AGGREGATED_DISCOVERY, Recording};
use crate::{ADMIN_TOKEN, fixtures_dir};

fn api(configure: impl FnOnce(&mut Behaviour)) -> Api {
    let recording = Recording::load(&fixtures_dir()).expect("fixtures load");
    let mut behaviour = Behaviour {
        tokens: [
            (ADMIN_TOKEN.to_string(), "admin".to_string()),
            ("dev-token".to_string(), "dev".to_string()),
        ]
        .into_iter()
        .collect(),
        aggregated_discovery: true,
        ..Behaviour::default()
    };
    configure(&mut behaviour);
    Api {
        recording,
        behaviour,
    }
}

const ADMIN: &str = "Bearer palisade-fake-admin-token";

fn get(api: &Api, target: &str) -> Reply {
    get_as(api, target, ADMIN)
}

fn get_as(api: &Api, target: &str, authorization: &str) -> Reply {
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (target, None),
    };
    api.handle(&Incoming {
        method: "GET",
        path,
        query,
        authorization: Some(authorization),
        ..Incoming::default()
    })
    .0
}

fn fixture(relative: &str) -> Vec<u8> {
    std::fs::read(fixtures_dir().join(relative)).expect("fixture exists")
}

fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("valid JSON")
}

/// Follows continue tokens from the first page and compares every page with the recorded one.
fn assert_pages_match_recording(path: &str, limit: usize, recorded_prefix: &str, pages: usize) {
    let api = api(|_| {});
    let mut target = format!("{path}?limit={limit}");
    for n in 1..=pages {
        let reply = get(&api, &target);
        assert_eq!(reply.status, 200, "page {n} of {path}");
        let recorded = fixture(&format!("{recorded_prefix}.page{n:02}.json"));
        assert_eq!(
            String::from_utf8_lossy(&reply.body),
            String::from_utf8_lossy(&recorded),
            "page {n} of {path} differs from the recording"
        );
        match json(&reply.body)["metadata"]["continue"].as_str() {
            Some(token) => target = format!("{path}?limit={limit}&continue={token}"),
            None => {
                assert_eq!(n, pages, "{path} ended after {n} pages");
                return;
            }
        }
    }
    panic!("{path} had more than {pages} pages");
}

#[test]
fn pod_pages_are_byte_identical_to_the_recorded_pages() {
    assert_pages_match_recording("/api/v1/pods", 3, "api/v1/pods.limit3", 10);
}

#[test]
fn configmap_pages_are_byte_identical_to_the_recorded_pages() {
    assert_pages_match_recording("/api/v1/configmaps", 2, "api/v1/configmaps.limit2", 10);
}

#[test]
fn full_lists_are_replayed_as_recorded() {
    let api = api(|_| {});
    for (path, file) in [
        ("/api/v1/secrets", "api/v1/secrets.json"),
        ("/apis/apps/v1/deployments", "apis/apps/v1/deployments.json"),
        (
            "/apis/rbac.authorization.k8s.io/v1/clusterroles",
            "apis/rbac.authorization.k8s.io/v1/clusterroles.json",
        ),
    ] {
        let reply = get(&api, path);
        assert_eq!(reply.status, 200, "{path}");
        assert_eq!(json(&reply.body), json(&fixture(file)), "{path}");
    }
}

#[test]
fn namespaced_lists_match_the_recorded_namespaced_list() {
    let api = api(|_| {});
    let reply = get(&api, "/api/v1/namespaces/shop/pods");
    assert_eq!(reply.status, 200);
    assert_eq!(
        json(&reply.body),
        json(&fixture("api/v1/namespaces/shop/pods.json"))
    );
}

#[test]
fn forbidden_namespaced_list_matches_the_recorded_403() {
    let api = api(|b| b.forbidden.push(GroupResource::parse("pods")));
    let reply = get_as(&api, "/api/v1/namespaces/payments/pods", "Bearer dev-token");
    assert_eq!(reply.status, 403);
    assert_eq!(
        json(&reply.body),
        json(&fixture("api/v1/namespaces/payments/pods.as-dev.403.json"))
    );
}

#[test]
fn forbidden_cluster_wide_list_names_the_cluster_scope() {
    let api = api(|b| b.forbidden.push(GroupResource::parse("secrets")));
    let reply = get_as(&api, "/api/v1/secrets", "Bearer dev-token");
    assert_eq!(reply.status, 403);
    let body = json(&reply.body);
    assert_eq!(
        body["message"],
        "secrets is forbidden: User \"dev\" cannot list resource \"secrets\" in API group \"\" at \
         the cluster scope"
    );
    assert_eq!(body["reason"], "Forbidden");
    assert_eq!(body["code"], 403);
    // Other kinds are unaffected.
    assert_eq!(get_as(&api, "/api/v1/pods", "Bearer dev-token").status, 200);
}

#[test]
fn failing_resources_answer_500_with_an_internal_error_status() {
    let api = api(|b| b.failing.push(GroupResource::parse("deployments.apps")));
    let reply = get(&api, "/apis/apps/v1/deployments?limit=500");
    assert_eq!(reply.status, 500);
    assert_eq!(json(&reply.body)["reason"], "InternalError");
}

#[test]
fn unknown_continue_tokens_get_410_expired() {
    let api = api(|_| {});
    let unknown = get(&api, "/api/v1/pods?limit=3&continue=bm9wZQ");
    assert_eq!(unknown.status, 410);
    let body = json(&unknown.body);
    assert_eq!(body["reason"], "Expired");
    assert_eq!(body["kind"], "Status");
    assert_eq!(body["code"], 410);
}

#[test]
fn expire_next_continue_answers_410_once() {
    let api = api(|b| {
        b.expire_next_continue
            .lock()
            .expect("fresh lock")
            .insert(GroupResource::parse("pods"));
    });
    let first = json(&get(&api, "/api/v1/pods?limit=3").body);
    let token = first["metadata"]["continue"].as_str().unwrap_or_default();
    let target = format!("/api/v1/pods?limit=3&continue={token}");
    assert_eq!(get(&api, &target).status, 410, "expired once");
    assert_eq!(get(&api, &target).status, 200, "then valid again");
}

#[test]
fn bad_or_missing_credentials_get_401_unauthorized() {
    let api = api(|_| {});
    for authorization in ["Bearer wrong", "Basic YWRtaW46YWRtaW4="] {
        let reply = get_as(&api, "/api/v1/pods", authorization);
        assert_eq!(reply.status, 401);
        assert_eq!(
            json(&reply.body),
            serde_json::json!({"kind":"Status","apiVersion":"v1","metadata":{},
                "status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401})
        );
    }
    let anonymous = api.handle(&Incoming {
        method: "GET",
        path: "/version",
        ..Incoming::default()
    });
    assert_eq!(anonymous.0.status, 401);
    assert_eq!(anonymous.1, None);
    let by_certificate = api.handle(&Incoming {
        method: "GET",
        path: "/version",
        certificate_user: Some("kubernetes-admin"),
        ..Incoming::default()
    });
    assert_eq!(by_certificate.0.status, 200);
    assert_eq!(by_certificate.1.as_deref(), Some("kubernetes-admin"));
}

#[test]
fn unknown_paths_get_the_not_found_status() {
    let api = api(|_| {});
    for path in [
        "/apis/example.com/v1/widgets",
        "/api/v1/widgets",
        "/healthz/nope",
        "/api/v1/namespaces/shop/nodes",
    ] {
        let reply = get(&api, path);
        assert_eq!(reply.status, 404, "{path}");
        assert_eq!(
            json(&reply.body)["message"],
            "the server could not find the requested resource"
        );
    }
    let missing = json(&get(&api, "/api/v1/namespaces/shop/pods/nope").body);
    assert_eq!(missing["message"], "pods \"nope\" not found");
}

#[test]
fn discovery_serves_aggregated_documents_only_when_asked() {
    let api = api(|_| {});
    let aggregated = api
        .handle(&Incoming {
            method: "GET",
            path: "/apis",
            accept: Some(&format!("{AGGREGATED_DISCOVERY},application/json")),
            authorization: Some(ADMIN),
            ..Incoming::default()
        })
        .0;
    assert_eq!(aggregated.content_type, AGGREGATED_DISCOVERY);
    assert_eq!(
        json(&aggregated.body),
        json(&fixture("apis.aggregated-v2.json"))
    );
    let legacy = get(&api, "/apis");
    assert_eq!(json(&legacy.body)["kind"], "APIGroupList");
    assert_eq!(
        json(&get(&api, "/api/v1").body),
        json(&fixture("api/v1.json"))
    );
    // Not recorded, built from the aggregated document.
    let leases = json(&get(&api, "/apis/coordination.k8s.io/v1").body);
    assert_eq!(leases["groupVersion"], "coordination.k8s.io/v1");
    assert_eq!(leases["resources"][0]["kind"], "Lease");
}

#[test]
fn unserved_resources_leave_discovery_and_answer_404() {
    let api = api(|b| b.unserved.push(GroupResource::parse("cronjobs.batch")));
    let batch = json(&get(&api, "/apis/batch/v1").body);
    let names: Vec<&str> = batch["resources"]
        .as_array()
        .map(|r| r.iter().filter_map(|r| r["name"].as_str()).collect())
        .unwrap_or_default();
    assert!(names.contains(&"jobs"), "{names:?}");
    assert!(
        !names.iter().any(|n| n.starts_with("cronjobs")),
        "{names:?}"
    );
    assert_eq!(get(&api, "/apis/batch/v1/cronjobs").status, 404);
    assert_eq!(get(&api, "/apis/batch/v1/jobs").status, 200);
}

#[test]
fn unrecorded_served_resources_are_empty_lists() {
    let api = api(|_| {});
    let reply = get(&api, "/api/v1/replicationcontrollers?limit=500");
    assert_eq!(reply.status, 200);
    let body = json(&reply.body);
    assert_eq!(body["kind"], "ReplicationControllerList");
    assert_eq!(body["items"], serde_json::json!([]));
    assert_eq!(body["metadata"]["resourceVersion"], "964");
}

#[test]
fn single_objects_carry_kind_and_api_version() {
    let api = api(|_| {});
    let deployment = json(&get(&api, "/apis/apps/v1/namespaces/shop/deployments/frontend").body);
    assert_eq!(deployment["kind"], "Deployment");
    assert_eq!(deployment["apiVersion"], "apps/v1");
    assert_eq!(deployment["metadata"]["name"], "frontend");
    let namespace = json(&get(&api, "/api/v1/namespaces/payments").body);
    assert_eq!(namespace["kind"], "Namespace");
}

#[test]
fn the_recorded_watch_is_replayed() {
    let api = api(|_| {});
    let reply = get(
        &api,
        "/api/v1/namespaces/shop/pods?watch=1&resourceVersion=964",
    );
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.body.as_ref(),
        fixture("api/v1/namespaces/shop/pods.watch.jsonl").as_slice()
    );
    assert_eq!(get(&api, "/api/v1/pods?watch=true").status, 400);
}

#[test]
fn fixtures_dir_points_at_the_repository_copy() {
    assert!(Path::new(&fixtures_dir()).join("index.json").is_file());
    assert!(Path::new(&fixtures_dir()).join("README.md").is_file());
}
