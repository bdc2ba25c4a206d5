//! The index must never change results: indexed and unindexed evaluation agree on thousands of
//! generated events, and rules with a top-level `ka.verb`/`ka.target.resource` requirement are
//! indexed while the others are tested on every event.
mod common;
use common::*;

const RULES: &str = r#"
- list: write_verbs
  items: [create, update, patch]
- macro: writes
  condition: ka.verb in (write_verbs)
- macro: secrets
  condition: ka.target.resource = secrets
- rule: Secret Write
  desc: d
  condition: writes and secrets
  output: "%ka.user.name wrote %ka.target.resource"
  priority: WARNING
  source: k8s_audit
- rule: Any Delete By Anonymous
  desc: d
  condition: ka.verb = delete and ka.user.name = "system:anonymous"
  output: x
  priority: ERROR
  source: k8s_audit
- rule: Either Verb Or Resource
  desc: d
  condition: ka.verb = get or ka.target.resource = pods
  output: x
  priority: NOTICE
  source: k8s_audit
- rule: Forbidden
  desc: d
  condition: ka.response.code >= 400
  output: x
  priority: INFO
  source: k8s_audit
- rule: Exec Not Get
  desc: d
  condition: not ka.verb = get and ka.target.resource in (pods, "pods/exec")
  output: "%ka.verb %ka.target.resource"
  priority: INFO
  source: k8s_audit
- rule: Code Indexed Not
  desc: d
  condition: ka.verb intersects (list, watch) and ka.target.namespace != default
  output: x
  priority: DEBUG
  source: k8s_audit
"#;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> Option<&'a str> {
        let i = (self.next() % (items.len() as u64 + 1)) as usize;
        items.get(i).copied()
    }
}

#[test]
fn indexed_and_unindexed_agree() {
    let r = load(RULES);
    let indexed: Vec<bool> = (0..r.rules().len()).map(|i| r.is_indexed(i)).collect();
    assert_eq!(indexed, [true, true, false, false, true, true]);
    let mut rng = Rng(0x9e3779b97f4a7c15);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    let mut total = 0;
    for _ in 0..5000 {
        let e = AuditEvent {
            verb: rng
                .pick(&[
                    "get", "list", "watch", "create", "update", "patch", "delete",
                ])
                .map(Into::into),
            resource: rng
                .pick(&["pods", "secrets", "pods/exec", "configmaps"])
                .map(Into::into),
            namespace: rng.pick(&["default", "kube-system"]).map(Into::into),
            user: rng.pick(&["system:anonymous", "alice"]).map(Into::into),
            code: Some([200, 201, 403, 404][(rng.next() % 4) as usize]),
            ..Default::default()
        };
        r.evaluate(&e, &mut a);
        r.evaluate_unindexed(&e, &mut b);
        assert_eq!(a, b, "{e:?}");
        total += a.len();
    }
    assert!(
        total > 2000,
        "generated events exercise the rules ({total} matches)"
    );
}
