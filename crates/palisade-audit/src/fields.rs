//! The fields of Falco's k8saudit plugin (`ka.*`, from falcosecurity/plugins
//! `plugins/k8saudit/pkg/k8saudit/{fields,extract}.go`) and of the json plugin it is used with
//! (`jevt.*`), over a decoded [`AuditEvent`], so rule files written for Falco load and fire
//! the same here.
//!
//! Types follow the plugin: every `ka.*` field is a string or a list of strings, JSON numbers,
//! booleans and objects rendered as JSON text (`ka.response.code` is `"201"`,
//! `ka.req.pod.host_network` is `"true"`, `ka.req.role.rules` is a list of JSON objects). Where
//! the plugin's code does something other than its documentation says, this follows the
//! documentation and the spot is marked "plugin:" below.

use std::borrow::Cow;

use palisade_rules::{Event, FieldInfo, FieldSource, FieldValue};

use crate::event::{AuditEvent, civil_from_nanos};
use crate::json::Json;

/// The `source:` name of audit rules.
pub const SOURCE_NAME: &str = "k8s_audit";

// `None`: no argument; `Some(false)`: an optional index; `Some(true)`: a required key.
const NO: Option<bool> = palisade_rules::fields::NO_ARGUMENT;
const INDEX: Option<bool> = palisade_rules::fields::INDEX_ARGUMENT;
const KEY: Option<bool> = palisade_rules::fields::KEY_ARGUMENT;

palisade_rules::field_table! {
    AuditId = "ka.auditid", String, NO;
    Stage = "ka.stage", String, NO;
    AuthDecision = "ka.auth.decision", String, NO;
    AuthReason = "ka.auth.reason", String, NO;
    UserName = "ka.user.name", String, NO;
    UserGroups = "ka.user.groups", StringList, NO;
    ImpUserName = "ka.impuser.name", String, NO;
    Verb = "ka.verb", String, NO;
    Uri = "ka.uri", String, NO;
    UriParam = "ka.uri.param", String, KEY;
    TargetName = "ka.target.name", String, NO;
    TargetNamespace = "ka.target.namespace", String, NO;
    TargetResource = "ka.target.resource", String, NO;
    TargetSubresource = "ka.target.subresource", String, NO;
    BindingSubjects = "ka.req.binding.subjects", StringList, NO;
    BindingRole = "ka.req.binding.role", String, NO;
    BindingSubjectHasName = "ka.req.binding.subject.has_name", String, KEY;
    ConfigmapName = "ka.req.configmap.name", String, NO;
    ConfigmapObj = "ka.req.configmap.obj", String, NO;
    PodContainersImage = "ka.req.pod.containers.image", StringList, INDEX;
    ContainerImage = "ka.req.container.image", String, NO;
    PodContainersImageRepository = "ka.req.pod.containers.image.repository", StringList, INDEX;
    ContainerImageRepository = "ka.req.container.image.repository", String, NO;
    PodHostIpc = "ka.req.pod.host_ipc", String, NO;
    PodHostNetwork = "ka.req.pod.host_network", String, NO;
    ContainerHostNetwork = "ka.req.container.host_network", String, NO;
    PodHostPid = "ka.req.pod.host_pid", String, NO;
    PodContainersHostPort = "ka.req.pod.containers.host_port", StringList, INDEX;
    PodContainersPrivileged = "ka.req.pod.containers.privileged", StringList, INDEX;
    ContainerPrivileged = "ka.req.container.privileged", String, NO;
    PodContainersAllowPrivilegeEscalation = "ka.req.pod.containers.allow_privilege_escalation", StringList, INDEX;
    PodContainersReadOnlyFs = "ka.req.pod.containers.read_only_fs", StringList, INDEX;
    PodRunAsUser = "ka.req.pod.run_as_user", String, NO;
    PodContainersRunAsUser = "ka.req.pod.containers.run_as_user", StringList, INDEX;
    PodContainersEffRunAsUser = "ka.req.pod.containers.eff_run_as_user", StringList, INDEX;
    PodRunAsGroup = "ka.req.pod.run_as_group", String, NO;
    PodContainersRunAsGroup = "ka.req.pod.containers.run_as_group", StringList, INDEX;
    PodContainersEffRunAsGroup = "ka.req.pod.containers.eff_run_as_group", StringList, INDEX;
    PodContainersProcMount = "ka.req.pod.containers.proc_mount", StringList, INDEX;
    RoleRules = "ka.req.role.rules", StringList, NO;
    RoleRulesApiGroups = "ka.req.role.rules.apiGroups", StringList, INDEX;
    RoleRulesNonResourceUrls = "ka.req.role.rules.nonResourceURLs", StringList, INDEX;
    RoleRulesVerbs = "ka.req.role.rules.verbs", StringList, INDEX;
    RoleRulesResources = "ka.req.role.rules.resources", StringList, INDEX;
    PodFsGroup = "ka.req.pod.fs_group", String, NO;
    PodSupplementalGroups = "ka.req.pod.supplemental_groups", StringList, NO;
    PodContainersAddCapabilities = "ka.req.pod.containers.add_capabilities", StringList, INDEX;
    ServiceType = "ka.req.service.type", String, NO;
    ServicePorts = "ka.req.service.ports", StringList, INDEX;
    PodVolumesHostpath = "ka.req.pod.volumes.hostpath", StringList, INDEX;
    VolumeHostpath = "ka.req.volume.hostpath", String, KEY;
    PodVolumesFlexvolumeDriver = "ka.req.pod.volumes.flexvolume_driver", StringList, INDEX;
    PodVolumesVolumeType = "ka.req.pod.volumes.volume_type", StringList, INDEX;
    RespName = "ka.resp.name", String, NO;
    ResponseCode = "ka.response.code", String, NO;
    ResponseReason = "ka.response.reason", String, NO;
    UserAgent = "ka.useragent", String, NO;
    SourceIps = "ka.sourceips", StringList, INDEX;
    ClusterName = "ka.cluster.name", String, NO;
    JevtTime = "jevt.time", String, NO;
    JevtTimeIso8601 = "jevt.time.iso8601", String, NO;
    JevtRawtime = "jevt.rawtime", Number, NO;
    JevtValue = "jevt.value", String, KEY;
    JevtObj = "jevt.obj", String, NO;
}

impl Field {
    fn from_id(id: u32) -> Option<Field> {
        FIELDS
            .get(usize::try_from(id).ok()?)
            .map(|(_, field, _, _)| *field)
    }
}

/// The `k8s_audit` source: its field table, and the cluster name `ka.cluster.name` answers
/// with (a Palisade addition: the plugin leaves cluster identity to the deployment).
#[derive(Debug, Clone, Default)]
pub struct AuditFields {
    pub cluster_name: Option<String>,
}

const INDEX_FIELDS: &[&str] = &["ka.verb", "ka.target.resource"];

impl FieldSource for AuditFields {
    fn source_name(&self) -> &str {
        SOURCE_NAME
    }

    fn field(&self, name: &str) -> Option<FieldInfo> {
        FIELDS
            .iter()
            .find(|(n, ..)| *n == name)
            .map(|(_, field, kind, argument)| FieldInfo {
                id: *field as u32,
                kind: *kind,
                argument: *argument,
            })
    }

    fn index_fields(&self) -> &[&str] {
        INDEX_FIELDS
    }
}

/// One decoded event as the rule engine sees it.
pub struct AuditRecord<'a> {
    pub event: &'a AuditEvent,
    pub cluster_name: Option<&'a str>,
}

impl<'a> AuditRecord<'a> {
    pub fn new(event: &'a AuditEvent, cluster_name: Option<&'a str>) -> Self {
        AuditRecord {
            event,
            cluster_name,
        }
    }

    /// The value of field `name` (for tests and tools; rules go through [`Event::value`]).
    pub fn get(&self, name: &str, argument: Option<&str>) -> FieldValue<'_> {
        match AuditFields::default().field(name) {
            Some(info) => self.value(info.id, argument),
            None => FieldValue::Missing,
        }
    }

    fn request(&self, path: &[&str]) -> Option<&'a Json> {
        let mut v = self.event.request_object.as_ref()?.get();
        for key in path {
            v = v.get(key)?;
        }
        Some(v)
    }

    /// `requestObject.spec.containers`, narrowed to one container by an index argument.
    fn containers(&self, argument: Option<&str>) -> Option<Vec<&'a Json>> {
        let all = self.request(&["spec", "containers"])?.as_array()?;
        match index_argument(argument) {
            Some(i) => all.get(i).map(|c| vec![c]),
            None => Some(all.iter().collect()),
        }
    }

    /// The value at `path` in each container, skipping containers that do not set it (the
    /// plugin's `arrayAsStringsSkipNil`): `privileged` of [c1: true, c2: unset] is `["true"]`.
    fn per_container(&self, argument: Option<&str>, path: &[&str]) -> FieldValue<'a> {
        let Some(containers) = self.containers(argument) else {
            return FieldValue::Missing;
        };
        FieldValue::List(
            containers
                .into_iter()
                .filter_map(|c| lookup(c, path))
                .map(json_text)
                .collect(),
        )
    }

    fn images(&self, argument: Option<&str>) -> Option<Vec<Cow<'a, str>>> {
        self.containers(argument)?
            .into_iter()
            .map(|c| c.get("image").map(json_text))
            .collect()
    }

    /// The effective uid/gid of each container: its own securityContext, else the pod's, else 0.
    /// plugin: reads `spec.<key>` and `containers[].<key>` (outside `securityContext`), which
    /// the Pod API never sets, so it always answers 0; the documented meaning is used here.
    fn effective(&self, argument: Option<&str>, key: &str) -> FieldValue<'a> {
        let pod_default = self
            .request(&["spec", "securityContext", key])
            .map_or(Cow::Borrowed("0"), json_text);
        let Some(containers) = self.containers(argument) else {
            return FieldValue::Missing;
        };
        FieldValue::List(
            containers
                .into_iter()
                .map(|c| {
                    lookup(c, &["securityContext", key])
                        .map_or_else(|| pod_default.clone(), json_text)
                })
                .collect(),
        )
    }

    fn volumes(&self, argument: Option<&str>) -> Option<Vec<&'a Json>> {
        let all = self.request(&["spec", "volumes"])?.as_array()?;
        match index_argument(argument) {
            Some(i) => all.get(i).map(|v| vec![v]),
            None => Some(all.iter().collect()),
        }
    }

    fn host_paths(&self, argument: Option<&str>) -> Option<Vec<Cow<'a, str>>> {
        Some(
            self.volumes(argument)?
                .into_iter()
                .filter_map(|v| lookup(v, &["hostPath", "path"]))
                .map(json_text)
                .collect(),
        )
    }

    /// The values of `key` across `requestObject.rules[]`, flattened.
    fn role_rules(&self, argument: Option<&str>, key: &str) -> FieldValue<'a> {
        let Some(rules) = self.request(&["rules"]).and_then(Json::as_array) else {
            return FieldValue::Missing;
        };
        let selected: Vec<&Json> = match index_argument(argument) {
            Some(i) => match rules.get(i) {
                Some(r) => vec![r],
                None => return FieldValue::Missing,
            },
            None => rules.iter().collect(),
        };
        FieldValue::List(
            selected
                .into_iter()
                .filter_map(|r| r.get(key)?.as_array())
                .flatten()
                .filter(|v| !v.is_null())
                .map(json_text)
                .collect(),
        )
    }

    fn jevt_value(&self, pointer: &str) -> FieldValue<'a> {
        let event = self.event;
        // The published rules test `jevt.value[/stage]` first in nearly every condition, so the
        // event's own scalar members are answered directly instead of by serialising the whole
        // event per rule. Members the event always serialises are present even when empty;
        // the others are absent then, as in the serialised form below.
        let member = |s: &'a str| FieldValue::Str(Cow::Borrowed(s));
        let object_ref = event.object_ref.as_ref();
        match pointer {
            "/stage" => return member(&event.stage),
            "/verb" => return member(&event.verb),
            "/auditID" => return member(&event.audit_id),
            "/level" => return member(&event.level),
            "/requestURI" => return member(&event.request_uri),
            "/user/username" => return member(&event.user.username),
            "/kind" => return text(&event.kind),
            "/apiVersion" => return text(&event.api_version),
            "/userAgent" => return text(&event.user_agent),
            "/stageTimestamp" => return text(&event.stage_timestamp),
            "/requestReceivedTimestamp" => return text(&event.request_received_timestamp),
            "/objectRef/resource" => return text(object_ref.map_or("", |o| &o.resource)),
            "/objectRef/subresource" => return text(object_ref.map_or("", |o| &o.subresource)),
            "/objectRef/namespace" => return text(object_ref.map_or("", |o| &o.namespace)),
            "/objectRef/name" => return text(object_ref.map_or("", |o| &o.name)),
            _ => {}
        }
        // The objects are the big parts: answer pointers into them without re-serialising the
        // event; everything else goes through the event's JSON form.
        for (prefix, object) in [
            ("/requestObject", &event.request_object),
            ("/responseObject", &event.response_object),
        ] {
            if let Some(rest) = pointer.strip_prefix(prefix)
                && (rest.is_empty() || rest.starts_with('/'))
            {
                return match object.as_ref().and_then(|o| o.get().pointer(rest)) {
                    Some(v) => FieldValue::Str(json_text(v)),
                    None => FieldValue::Missing,
                };
            }
        }
        let mut whole = match serde_json::to_value(event) {
            Ok(v) => v,
            Err(_) => return FieldValue::Missing,
        };
        match whole.pointer_mut(pointer).map(serde_json::Value::take) {
            Some(serde_json::Value::String(s)) => FieldValue::Str(Cow::Owned(s)),
            Some(v) => FieldValue::Str(Cow::Owned(v.to_string())),
            None => FieldValue::Missing,
        }
    }
}

impl Event for AuditRecord<'_> {
    fn value(&self, id: u32, argument: Option<&str>) -> FieldValue<'_> {
        let Some(field) = Field::from_id(id) else {
            return FieldValue::Missing;
        };
        let e = self.event;
        let object_ref = e.object_ref.as_ref();
        match field {
            Field::AuditId => text(&e.audit_id),
            Field::Stage => text(&e.stage),
            Field::AuthDecision => opt(e.annotations.get("authorization.k8s.io/decision")),
            Field::AuthReason => opt(e.annotations.get("authorization.k8s.io/reason")),
            Field::UserName => text(&e.user.username),
            Field::UserGroups => list(&e.user.groups),
            Field::ImpUserName => match &e.impersonated_user {
                Some(u) => FieldValue::Str(Cow::Borrowed(&u.username)),
                None => FieldValue::Missing,
            },
            Field::Verb => text(&e.verb),
            Field::Uri => text(&e.request_uri),
            Field::UriParam => match argument.and_then(|key| uri_param(&e.request_uri, key)) {
                Some(v) => FieldValue::Str(Cow::Owned(v)),
                None => FieldValue::Missing,
            },
            Field::TargetName | Field::ConfigmapName => text(object_ref.map_or("", |o| &o.name)),
            Field::TargetNamespace => text(object_ref.map_or("", |o| &o.namespace)),
            Field::TargetResource => text(object_ref.map_or("", |o| &o.resource)),
            Field::TargetSubresource => text(object_ref.map_or("", |o| &o.subresource)),
            Field::BindingSubjects => match self.request(&["subjects"]).and_then(Json::as_array) {
                Some(subjects) => FieldValue::List(subjects.iter().map(json_text).collect()),
                None => FieldValue::Missing,
            },
            Field::BindingRole => str_at(self.request(&["roleRef", "name"])),
            // plugin: documented as always N/A, answers "true" for compatibility with the old
            // built-in implementation.
            Field::BindingSubjectHasName => FieldValue::Str(Cow::Borrowed("true")),
            Field::ConfigmapObj => str_at(self.request(&["data"])),
            Field::PodContainersImage => match self.images(argument) {
                Some(images) => FieldValue::List(images),
                None => FieldValue::Missing,
            },
            Field::ContainerImage => match self.images(Some("0")) {
                Some(mut images) if !images.is_empty() => FieldValue::Str(images.swap_remove(0)),
                _ => FieldValue::Missing,
            },
            Field::PodContainersImageRepository => match self.images(argument) {
                Some(images) => FieldValue::List(images.iter().map(|i| repository(i)).collect()),
                None => FieldValue::Missing,
            },
            Field::ContainerImageRepository => match self.images(Some("0")) {
                Some(images) => match images.first() {
                    Some(i) => FieldValue::Str(repository(i)),
                    None => FieldValue::Missing,
                },
                None => FieldValue::Missing,
            },
            Field::PodHostIpc => str_at(self.request(&["spec", "hostIPC"])),
            Field::PodHostNetwork | Field::ContainerHostNetwork => {
                str_at(self.request(&["spec", "hostNetwork"]))
            }
            Field::PodHostPid => str_at(self.request(&["spec", "hostPID"])),
            Field::PodContainersHostPort => match self.containers(argument) {
                // A port without hostPort reports its containerPort: with hostNetwork they are
                // the same port on the node.
                Some(containers) => FieldValue::List(
                    containers
                        .into_iter()
                        .filter_map(|c| c.get("ports")?.as_array())
                        .flatten()
                        .filter_map(|p| p.get("hostPort").or_else(|| p.get("containerPort")))
                        .map(json_text)
                        .collect(),
                ),
                None => FieldValue::Missing,
            },
            Field::PodContainersPrivileged => {
                self.per_container(argument, &["securityContext", "privileged"])
            }
            Field::ContainerPrivileged => match self.containers(None) {
                Some(containers) => FieldValue::Str(Cow::Borrowed(
                    if containers.iter().any(|c| {
                        lookup(c, &["securityContext", "privileged"]).and_then(Json::as_bool)
                            == Some(true)
                    }) {
                        "true"
                    } else {
                        "false"
                    },
                )),
                None => FieldValue::Missing,
            },
            Field::PodContainersAllowPrivilegeEscalation => {
                self.per_container(argument, &["securityContext", "allowPrivilegeEscalation"])
            }
            Field::PodContainersReadOnlyFs => {
                self.per_container(argument, &["securityContext", "readOnlyRootFilesystem"])
            }
            Field::PodRunAsUser => str_at(self.request(&["spec", "securityContext", "runAsUser"])),
            Field::PodContainersRunAsUser => {
                self.per_container(argument, &["securityContext", "runAsUser"])
            }
            Field::PodContainersEffRunAsUser => self.effective(argument, "runAsUser"),
            Field::PodRunAsGroup => {
                str_at(self.request(&["spec", "securityContext", "runAsGroup"]))
            }
            Field::PodContainersRunAsGroup => {
                self.per_container(argument, &["securityContext", "runAsGroup"])
            }
            Field::PodContainersEffRunAsGroup => self.effective(argument, "runAsGroup"),
            Field::PodContainersProcMount => {
                self.per_container(argument, &["securityContext", "procMount"])
            }
            Field::RoleRules => match self.request(&["rules"]).and_then(Json::as_array) {
                Some(rules) => FieldValue::List(rules.iter().map(json_text).collect()),
                None => FieldValue::Missing,
            },
            Field::RoleRulesApiGroups => self.role_rules(argument, "apiGroups"),
            Field::RoleRulesNonResourceUrls => self.role_rules(argument, "nonResourceURLs"),
            Field::RoleRulesVerbs => self.role_rules(argument, "verbs"),
            Field::RoleRulesResources => self.role_rules(argument, "resources"),
            Field::PodFsGroup => str_at(self.request(&["spec", "securityContext", "fsGroup"])),
            Field::PodSupplementalGroups => match self
                .request(&["spec", "securityContext", "supplementalGroups"])
                .and_then(Json::as_array)
            {
                Some(groups) => FieldValue::List(groups.iter().map(json_text).collect()),
                None => FieldValue::Missing,
            },
            Field::PodContainersAddCapabilities => match self.containers(argument) {
                Some(containers) => FieldValue::List(
                    containers
                        .into_iter()
                        .filter_map(|c| lookup(c, &["securityContext", "capabilities", "add"]))
                        .filter_map(Json::as_array)
                        .flatten()
                        .map(json_text)
                        .collect(),
                ),
                None => FieldValue::Missing,
            },
            Field::ServiceType => str_at(self.request(&["spec", "type"])),
            Field::ServicePorts => {
                match self.request(&["spec", "ports"]).and_then(Json::as_array) {
                    Some(ports) => {
                        let selected: Vec<&Json> = match index_argument(argument) {
                            Some(i) => ports.get(i).into_iter().collect(),
                            None => ports.iter().collect(),
                        };
                        FieldValue::List(selected.into_iter().map(json_text).collect())
                    }
                    None => FieldValue::Missing,
                }
            }
            Field::PodVolumesHostpath => match self.host_paths(argument) {
                Some(paths) => FieldValue::List(paths),
                None => FieldValue::Missing,
            },
            Field::VolumeHostpath => {
                let (Some(key), Some(paths)) = (argument, self.host_paths(None)) else {
                    return FieldValue::Missing;
                };
                // A trailing `*` asks for a prefix match, anything else for equality.
                let hit = paths.iter().any(|p| match key.strip_suffix('*') {
                    Some(prefix) => p.starts_with(prefix),
                    None => p == key,
                });
                FieldValue::Str(Cow::Borrowed(if hit { "true" } else { "false" }))
            }
            Field::PodVolumesFlexvolumeDriver => match self.volumes(argument) {
                Some(volumes) => FieldValue::List(
                    volumes
                        .into_iter()
                        .filter_map(|v| lookup(v, &["flexVolume", "driver"]))
                        .map(json_text)
                        .collect(),
                ),
                None => FieldValue::Missing,
            },
            Field::PodVolumesVolumeType => match self.volumes(argument) {
                // A volume's type is the key of its source (`hostPath`, `secret`, ...).
                Some(volumes) => FieldValue::List(
                    volumes
                        .into_iter()
                        .filter_map(Json::as_object)
                        .flat_map(|v| v.iter().map(|(k, _)| k))
                        .filter(|k| *k != "name")
                        .map(|k| Cow::Borrowed(k.as_str()))
                        .collect(),
                ),
                None => FieldValue::Missing,
            },
            Field::RespName => {
                let name = e
                    .response_object
                    .as_ref()
                    .and_then(|o| lookup(o.get(), &["metadata", "name"]));
                str_at(name)
            }
            Field::ResponseCode => match e.response_code() {
                Some(code) => FieldValue::Str(Cow::Owned(code.to_string())),
                None => FieldValue::Missing,
            },
            Field::ResponseReason => opt(e
                .response_status
                .as_ref()
                .map(|s| &s.reason)
                .filter(|r| !r.is_empty())),
            Field::UserAgent => text(&e.user_agent),
            // plugin: reads `requestObject.rules[].sourceIPs` (a copy-paste slip); the documented
            // meaning, the client's addresses, is used here.
            Field::SourceIps => match index_argument(argument) {
                Some(i) => match e.source_ips.get(i) {
                    Some(ip) => FieldValue::List(vec![Cow::Borrowed(ip.as_str())]),
                    None => FieldValue::Missing,
                },
                None => list(&e.source_ips),
            },
            Field::ClusterName => match self.cluster_name {
                Some(name) => FieldValue::Str(Cow::Borrowed(name)),
                None => FieldValue::Missing,
            },
            Field::JevtTime => match e.time_nanos() {
                Some(n) => {
                    let (_, _, _, h, m, s, ns) = civil_from_nanos(n);
                    FieldValue::Str(Cow::Owned(format!("{h:02}:{m:02}:{s:02}.{ns:09}")))
                }
                None => FieldValue::Missing,
            },
            Field::JevtTimeIso8601 => match e.time_nanos() {
                Some(n) => {
                    let (y, mo, d, h, m, s, ns) = civil_from_nanos(n);
                    FieldValue::Str(Cow::Owned(format!(
                        "{y:04}-{mo:02}-{d:02}T{h:02}:{m:02}:{s:02}.{ns:09}Z"
                    )))
                }
                None => FieldValue::Missing,
            },
            Field::JevtRawtime => match e.time_nanos() {
                Some(n) => FieldValue::Number(n),
                None => FieldValue::Missing,
            },
            Field::JevtValue => match argument {
                Some(pointer) => self.jevt_value(pointer),
                None => FieldValue::Missing,
            },
            Field::JevtObj => match serde_json::to_string(e) {
                Ok(s) => FieldValue::Str(Cow::Owned(s)),
                Err(_) => FieldValue::Missing,
            },
        }
    }
}

/// An index argument (`[0]`); anything that is not a number means "all", as in the plugin.
fn index_argument(argument: Option<&str>) -> Option<usize> {
    argument.and_then(|a| a.trim().parse().ok())
}

fn lookup<'v>(mut v: &'v Json, path: &[&str]) -> Option<&'v Json> {
    for key in path {
        v = v.get(key)?;
    }
    Some(v)
}

/// A JSON value as the plugin renders it: strings as themselves, the rest as JSON text.
fn json_text(v: &Json) -> Cow<'_, str> {
    match v {
        Json::String(s) => Cow::Borrowed(s.as_str()),
        other => Cow::Owned(other.to_string()),
    }
}

fn str_at(v: Option<&Json>) -> FieldValue<'_> {
    match v {
        Some(v) => FieldValue::Str(json_text(v)),
        None => FieldValue::Missing,
    }
}

/// A string member that is absent when empty (the decoder defaults missing members to "").
fn text(s: &str) -> FieldValue<'_> {
    if s.is_empty() {
        FieldValue::Missing
    } else {
        FieldValue::Str(Cow::Borrowed(s))
    }
}

fn opt(s: Option<&String>) -> FieldValue<'_> {
    match s {
        Some(s) => FieldValue::Str(Cow::Borrowed(s.as_str())),
        None => FieldValue::Missing,
    }
}

fn list(items: &[String]) -> FieldValue<'_> {
    FieldValue::List(items.iter().map(|s| Cow::Borrowed(s.as_str())).collect())
}

/// The repository part of an image reference, cut as the plugin cuts it (before the first `:`,
/// then before `@`), so `registry:5000/app` gives `registry` there and here alike.
fn repository(image: &str) -> Cow<'static, str> {
    let before_tag = image.split(':').next().unwrap_or(image);
    Cow::Owned(
        before_tag
            .split('@')
            .next()
            .unwrap_or(before_tag)
            .to_string(),
    )
}

/// The first value of query parameter `key` in a request URI, percent-decoded.
fn uri_param(uri: &str, key: &str) -> Option<String> {
    let query = uri.split_once('?')?.1;
    let query = query.split('#').next().unwrap_or(query);
    query.split(['&', ';']).find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(k) == key).then(|| percent_decode(v))
    })
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    None => out.push(b),
                }
            }
            b'+' => out.push(b' '),
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::decode_event;

    fn record(json: &str) -> AuditEvent {
        decode_event(json.as_bytes()).unwrap()
    }

    fn strs(v: FieldValue<'_>) -> Vec<String> {
        match v {
            FieldValue::List(items) => items.into_iter().map(Cow::into_owned).collect(),
            FieldValue::Str(s) => vec![s.into_owned()],
            other => panic!("not a string value: {other:?}"),
        }
    }

    const POD: &str = r#"{"apiVersion":"audit.k8s.io/v1","auditID":"p","stage":"ResponseComplete","verb":"create","requestURI":"/api/v1/namespaces/x/pods/p/exec?command=cat&command=%2Fetc%2Fpasswd&stdout=true","objectRef":{"resource":"pods","namespace":"x"},"responseStatus":{"code":201},"requestObject":{"spec":{"hostNetwork":true,"securityContext":{"runAsUser":1000},"containers":[{"name":"a","image":"nginx:1.27@sha256:ab","securityContext":{"privileged":true,"capabilities":{"add":["SYS_ADMIN"]}},"ports":[{"containerPort":80},{"containerPort":9100,"hostPort":9100}]},{"name":"b","image":"busybox","securityContext":{"runAsUser":0}}],"volumes":[{"name":"root","hostPath":{"path":"/"}},{"name":"t","secret":{"secretName":"s"}}]}}}"#;

    #[test]
    fn every_field_is_declared_once_with_its_id() {
        let source = AuditFields::default();
        for (i, (name, field, ..)) in FIELDS.iter().enumerate() {
            assert_eq!(*field as usize, i, "{name}");
            assert_eq!(source.field(name).map(|f| f.id), Some(i as u32));
        }
        assert!(source.field("ka.nope").is_none());
        assert_eq!(source.source_name(), "k8s_audit");
    }

    /// `jevt.value` answered from the event's members must equal the answer from its
    /// serialised form, present or absent alike.
    #[test]
    fn jevt_value_shortcuts_agree_with_the_serialised_event() {
        let bare = r#"{"auditID":"b","stage":"ResponseStarted","verb":"get","requestURI":"/version","user":{"username":"system:anonymous"}}"#;
        for json in [POD, bare] {
            let e = record(json);
            let whole = serde_json::to_value(&e).unwrap();
            let r = AuditRecord::new(&e, None);
            for pointer in [
                "/stage",
                "/verb",
                "/auditID",
                "/level",
                "/requestURI",
                "/user/username",
                "/kind",
                "/apiVersion",
                "/userAgent",
                "/stageTimestamp",
                "/requestReceivedTimestamp",
                "/objectRef/resource",
                "/objectRef/subresource",
                "/objectRef/namespace",
                "/objectRef/name",
            ] {
                let expected = match whole.pointer(pointer) {
                    Some(serde_json::Value::String(s)) => FieldValue::Str(Cow::Owned(s.clone())),
                    Some(other) => panic!("{pointer} is not a string: {other}"),
                    None => FieldValue::Missing,
                };
                assert_eq!(
                    r.get("jevt.value", Some(pointer)),
                    expected,
                    "{pointer} in {json}"
                );
            }
        }
        let e = record(bare);
        let r = AuditRecord::new(&e, None);
        assert_eq!(
            strs(r.get("jevt.value", Some("/stage"))),
            ["ResponseStarted"]
        );
        assert_eq!(
            r.get("jevt.value", Some("/objectRef/name")),
            FieldValue::Missing
        );
    }

    /// Object-valued fields render members in the log's order, as the plugins re-marshal them,
    /// not sorted.
    #[test]
    fn objects_render_in_document_order() {
        let line = r#"{"auditID":"r","stage":"ResponseComplete","verb":"create","objectRef":{"resource":"clusterroles"},"requestObject":{"kind":"ClusterRole","rules":[{"verbs":["get"],"apiGroups":[""],"resources":["pods"]}],"metadata":{"name":"x"}}}"#;
        let e = record(line);
        let r = AuditRecord::new(&e, None);
        assert_eq!(
            strs(r.get("ka.req.role.rules", None)),
            [r#"{"verbs":["get"],"apiGroups":[""],"resources":["pods"]}"#]
        );
        assert_eq!(
            strs(r.get("jevt.value", Some("/requestObject"))),
            [
                r#"{"kind":"ClusterRole","rules":[{"verbs":["get"],"apiGroups":[""],"resources":["pods"]}],"metadata":{"name":"x"}}"#
            ]
        );
        assert_eq!(strs(r.get("ka.req.role.rules.verbs", None)), ["get"]);
    }

    #[test]
    fn pod_fields_follow_the_plugin() {
        let e = record(POD);
        let r = AuditRecord::new(&e, None);
        assert_eq!(
            strs(r.get("ka.req.pod.containers.privileged", None)),
            ["true"]
        );
        assert_eq!(strs(r.get("ka.req.container.privileged", None)), ["true"]);
        assert_eq!(
            strs(r.get("ka.req.pod.containers.image.repository", None)),
            ["nginx", "busybox"]
        );
        assert_eq!(
            strs(r.get("ka.req.pod.containers.image", Some("1"))),
            ["busybox"]
        );
        assert_eq!(
            strs(r.get("ka.req.container.image", None)),
            ["nginx:1.27@sha256:ab"]
        );
        assert_eq!(strs(r.get("ka.req.pod.host_network", None)), ["true"]);
        assert_eq!(r.get("ka.req.pod.host_pid", None), FieldValue::Missing);
        assert_eq!(
            strs(r.get("ka.req.pod.containers.host_port", None)),
            ["80", "9100"]
        );
        assert_eq!(
            strs(r.get("ka.req.pod.containers.add_capabilities", None)),
            ["SYS_ADMIN"]
        );
        assert_eq!(
            strs(r.get("ka.req.pod.containers.eff_run_as_user", None)),
            ["1000", "0"]
        );
        assert_eq!(strs(r.get("ka.req.pod.volumes.hostpath", None)), ["/"]);
        assert_eq!(strs(r.get("ka.req.volume.hostpath", Some("/"))), ["true"]);
        assert_eq!(
            strs(r.get("ka.req.volume.hostpath", Some("/etc*"))),
            ["false"]
        );
        assert_eq!(
            strs(r.get("ka.req.pod.volumes.volume_type", None)),
            ["hostPath", "secret"]
        );
        assert_eq!(strs(r.get("ka.uri.param", Some("command"))), ["cat"]);
        assert_eq!(strs(r.get("ka.response.code", None)), ["201"]);
        assert_eq!(
            strs(r.get("jevt.value", Some("/requestObject/spec/containers/1/name"))),
            ["b"]
        );
        assert_eq!(
            strs(r.get("jevt.value", Some("/stage"))),
            ["ResponseComplete"]
        );
        assert_eq!(r.get("jevt.value", Some("/nope")), FieldValue::Missing);
    }

    #[test]
    fn role_and_binding_fields() {
        let e = record(
            r#"{"auditID":"r","stage":"ResponseComplete","verb":"create","objectRef":{"resource":"clusterroles"},"requestObject":{"rules":[{"apiGroups":["*"],"resources":["*"],"verbs":["*"]},{"nonResourceURLs":["/metrics"],"verbs":["get"]}],"roleRef":{"name":"cluster-admin"},"subjects":[{"kind":"User","name":"eve"}]}}"#,
        );
        let r = AuditRecord::new(&e, Some("shop"));
        assert_eq!(strs(r.get("ka.req.role.rules.verbs", None)), ["*", "get"]);
        assert_eq!(strs(r.get("ka.req.role.rules.verbs", Some("1"))), ["get"]);
        assert_eq!(
            strs(r.get("ka.req.role.rules.nonResourceURLs", None)),
            ["/metrics"]
        );
        assert_eq!(strs(r.get("ka.req.binding.role", None)), ["cluster-admin"]);
        assert_eq!(
            strs(r.get("ka.req.binding.subjects", None)),
            [r#"{"kind":"User","name":"eve"}"#]
        );
        assert_eq!(strs(r.get("ka.cluster.name", None)), ["shop"]);
        assert_eq!(r.get("ka.useragent", None), FieldValue::Missing);
    }
}
