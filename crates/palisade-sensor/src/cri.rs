//! A minimal CRI client: `runtime.v1.RuntimeService/ListContainers` and `ListPodSandbox` over the
//! runtime's Unix socket, to name the containers the cgroup paths identify.
//!
//! gRPC is written by hand on top of HTTP/2 (`h2`): a unary call is a POST to
//! `/<package>.<Service>/<Method>` with `content-type: application/grpc`, a body of one message
//! framed as a 1-byte compression flag and a 4-byte big-endian length, and the outcome in the
//! `grpc-status` trailer (or in the headers of a trailers-only response). The messages are
//! declared with `prost` derive, only the fields attribution reads, with the field numbers of
//! kubernetes/cri-api `pkg/apis/runtime/v1/api.proto`; unknown fields are skipped by protobuf
//! decoding, so newer runtimes stay readable.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;

use crate::model::{PodInfo, Runtime};
use crate::pods::ContainerMeta;

/// containerd's default socket.
pub const CONTAINERD_SOCKET: &str = "/run/containerd/containerd.sock";
/// CRI-O's default socket.
pub const CRIO_SOCKET: &str = "/var/run/crio/crio.sock";

/// The largest response accepted (the kubelet's own CRI client limit is 16 MiB).
const MAX_MESSAGE: usize = 16 * 1024 * 1024;

/// Labels the kubelet adds to every sandbox; the pod's own labels are the rest.
const KUBELET_SANDBOX_LABELS: &[&str] = &[
    "io.kubernetes.pod.name",
    "io.kubernetes.pod.namespace",
    "io.kubernetes.pod.uid",
];

/// The CRI messages, only the fields attribution reads.
pub mod proto {
    use std::collections::HashMap;

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ListContainersRequest {
        #[prost(message, optional, tag = "1")]
        pub filter: Option<ContainerFilter>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ContainerFilter {
        #[prost(string, tag = "1")]
        pub id: String,
        #[prost(string, tag = "3")]
        pub pod_sandbox_id: String,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ListContainersResponse {
        #[prost(message, repeated, tag = "1")]
        pub containers: Vec<Container>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Container {
        #[prost(string, tag = "1")]
        pub id: String,
        #[prost(string, tag = "2")]
        pub pod_sandbox_id: String,
        #[prost(message, optional, tag = "3")]
        pub metadata: Option<ContainerMetadata>,
        #[prost(message, optional, tag = "4")]
        pub image: Option<ImageSpec>,
        /// The image in use; for most runtimes the image ID (`sha256:…`).
        #[prost(string, tag = "5")]
        pub image_ref: String,
        /// `ContainerState` enum: 0 created, 1 running, 2 exited, 3 unknown.
        #[prost(int32, tag = "6")]
        pub state: i32,
        #[prost(map = "string, string", tag = "8")]
        pub labels: HashMap<String, String>,
        #[prost(map = "string, string", tag = "9")]
        pub annotations: HashMap<String, String>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ContainerMetadata {
        #[prost(string, tag = "1")]
        pub name: String,
        #[prost(uint32, tag = "2")]
        pub attempt: u32,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ImageSpec {
        /// What the kubelet passed: usually the image ID, sometimes the reference.
        #[prost(string, tag = "1")]
        pub image: String,
        /// The image as written in the pod spec (CRI v1.29+).
        #[prost(string, tag = "18")]
        pub user_specified_image: String,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ListPodSandboxRequest {
        #[prost(message, optional, tag = "1")]
        pub filter: Option<PodSandboxFilter>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct PodSandboxFilter {
        #[prost(string, tag = "1")]
        pub id: String,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ListPodSandboxResponse {
        #[prost(message, repeated, tag = "1")]
        pub items: Vec<PodSandbox>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct PodSandbox {
        #[prost(string, tag = "1")]
        pub id: String,
        #[prost(message, optional, tag = "2")]
        pub metadata: Option<PodSandboxMetadata>,
        /// `PodSandboxState` enum: 0 ready, 1 not ready.
        #[prost(int32, tag = "3")]
        pub state: i32,
        #[prost(map = "string, string", tag = "5")]
        pub labels: HashMap<String, String>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct PodSandboxMetadata {
        #[prost(string, tag = "1")]
        pub name: String,
        #[prost(string, tag = "2")]
        pub uid: String,
        #[prost(string, tag = "3")]
        pub namespace: String,
        #[prost(uint32, tag = "4")]
        pub attempt: u32,
    }
}

/// Why a CRI call failed.
#[derive(Debug, thiserror::Error)]
pub enum CriError {
    #[error("connecting to {socket}: {source}")]
    Connect {
        socket: PathBuf,
        source: std::io::Error,
    },
    #[error("CRI call timed out after {0:?}")]
    Timeout(Duration),
    #[error("HTTP/2: {0}")]
    Http2(#[from] h2::Error),
    #[error("HTTP status {0}")]
    HttpStatus(u16),
    #[error("gRPC status {code}: {message}")]
    Status { code: u32, message: String },
    #[error("decoding the response: {0}")]
    Decode(#[from] prost::DecodeError),
    #[error("gRPC framing: {0}")]
    Framing(&'static str),
    #[error("starting the CRI client runtime: {0}")]
    Runtime(std::io::Error),
}

/// A CRI runtime socket.
#[derive(Debug, Clone)]
pub struct CriClient {
    socket: PathBuf,
    timeout: Duration,
}

impl CriClient {
    pub fn new(socket: impl Into<PathBuf>, timeout: Duration) -> Self {
        CriClient {
            socket: socket.into(),
            timeout,
        }
    }

    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// The runtime a socket belongs to, from its conventional path.
    pub fn runtime(&self) -> Runtime {
        if self.socket.to_string_lossy().contains("crio") {
            Runtime::CriO
        } else {
            Runtime::Containerd
        }
    }

    /// Every container with its pod, from one `ListContainers` and one `ListPodSandbox` call on
    /// one connection, within the client's timeout. Blocking: call it off the event thread.
    pub fn snapshot(&self) -> Result<Vec<ContainerMeta>, CriError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(CriError::Runtime)?;
        let timeout = self.timeout;
        let (containers, sandboxes) = runtime.block_on(async {
            tokio::time::timeout(timeout, self.list_both())
                .await
                .map_err(|_| CriError::Timeout(timeout))?
        })?;
        Ok(join(self.runtime(), containers, sandboxes))
    }

    async fn list_both(&self) -> Result<(Vec<proto::Container>, Vec<proto::PodSandbox>), CriError> {
        let stream = tokio::net::UnixStream::connect(&self.socket)
            .await
            .map_err(|source| CriError::Connect {
                socket: self.socket.clone(),
                source,
            })?;
        let (client, connection) = h2::client::Builder::new()
            .max_frame_size(1 << 20)
            .handshake::<_, Bytes>(stream)
            .await?;
        // The connection task drives the HTTP/2 state machine; it ends when the client is
        // dropped or the runtime shuts down with this call.
        let driver = tokio::spawn(async move {
            let _ = connection.await;
        });
        let result = async {
            let containers: proto::ListContainersResponse = unary(
                client.clone(),
                "/runtime.v1.RuntimeService/ListContainers",
                &proto::ListContainersRequest::default(),
            )
            .await?;
            let sandboxes: proto::ListPodSandboxResponse = unary(
                client,
                "/runtime.v1.RuntimeService/ListPodSandbox",
                &proto::ListPodSandboxRequest::default(),
            )
            .await?;
            Ok((containers.containers, sandboxes.items))
        }
        .await;
        driver.abort();
        result
    }
}

/// One unary gRPC call.
async fn unary<Req: prost::Message, Resp: prost::Message + Default>(
    client: h2::client::SendRequest<Bytes>,
    path: &str,
    request: &Req,
) -> Result<Resp, CriError> {
    let mut client = client.ready().await?;
    let http_request = http::Request::builder()
        .method(http::Method::POST)
        // HTTP/2 needs a scheme and an authority; over a Unix socket any authority does.
        .uri(format!("http://localhost{path}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(())
        .map_err(|_| CriError::Framing("invalid request path"))?;
    let (response, mut send) = client.send_request(http_request, false)?;
    send.send_data(Bytes::from(frame(&request.encode_to_vec())), true)?;
    let response = response.await?;
    let (parts, mut body) = response.into_parts();
    if parts.status != http::StatusCode::OK {
        return Err(CriError::HttpStatus(parts.status.as_u16()));
    }
    // A trailers-only response (an immediate error) carries the status in its headers.
    check_status(&parts.headers)?;
    let mut data: Vec<u8> = Vec::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk?;
        let _ = body.flow_control().release_capacity(chunk.len());
        if data.len() + chunk.len() > MAX_MESSAGE + 5 {
            return Err(CriError::Framing("response larger than 16 MiB"));
        }
        data.extend_from_slice(&chunk);
    }
    match body.trailers().await? {
        Some(trailers) => check_status(&trailers)?,
        None if parts.headers.contains_key("grpc-status") => {}
        None => return Err(CriError::Framing("no grpc-status trailer")),
    }
    let message = unframe(&data)?;
    Ok(Resp::decode(message)?)
}

/// A gRPC message frame: uncompressed flag, big-endian length, message.
pub fn frame(message: &[u8]) -> Vec<u8> {
    let mut framed = Vec::with_capacity(message.len() + 5);
    framed.push(0);
    framed.extend_from_slice(&(message.len() as u32).to_be_bytes());
    framed.extend_from_slice(message);
    framed
}

/// The message of a unary response body (exactly one uncompressed frame; an empty body is an
/// empty message).
pub fn unframe(data: &[u8]) -> Result<&[u8], CriError> {
    if data.is_empty() {
        return Ok(data);
    }
    let (header, rest) = data
        .split_first_chunk::<5>()
        .ok_or(CriError::Framing("truncated frame header"))?;
    let [compressed, len @ ..] = header;
    if *compressed != 0 {
        return Err(CriError::Framing("compressed message (not negotiated)"));
    }
    let len = u32::from_be_bytes(*len) as usize;
    if len > MAX_MESSAGE {
        return Err(CriError::Framing("message larger than 16 MiB"));
    }
    rest.get(..len)
        .ok_or(CriError::Framing("truncated message"))
}

fn check_status(headers: &http::HeaderMap) -> Result<(), CriError> {
    let Some(status) = headers.get("grpc-status") else {
        return Ok(());
    };
    let code = status
        .to_str()
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
        .ok_or(CriError::Framing("unreadable grpc-status"))?;
    if code == 0 {
        return Ok(());
    }
    let message = headers
        .get("grpc-message")
        .and_then(|m| m.to_str().ok())
        .unwrap_or_default()
        .to_string();
    Err(CriError::Status { code, message })
}

/// Containers joined with their sandboxes into attribution metadata.
pub fn join(
    runtime: Runtime,
    containers: Vec<proto::Container>,
    sandboxes: Vec<proto::PodSandbox>,
) -> Vec<ContainerMeta> {
    let pods: BTreeMap<String, PodInfo> = sandboxes
        .into_iter()
        .filter_map(|sandbox| {
            let metadata = sandbox.metadata?;
            let labels = sandbox
                .labels
                .into_iter()
                .filter(|(key, _)| !KUBELET_SANDBOX_LABELS.contains(&key.as_str()))
                .collect();
            Some((
                sandbox.id,
                PodInfo {
                    uid: metadata.uid,
                    namespace: metadata.namespace,
                    name: metadata.name,
                    labels,
                },
            ))
        })
        .collect();
    containers
        .into_iter()
        .filter(|c| !c.id.is_empty())
        .map(|container| {
            let image_spec = container.image.unwrap_or_default();
            let image = [image_spec.user_specified_image, image_spec.image]
                .into_iter()
                .find(|i| !i.is_empty() && !i.starts_with("sha256:"));
            ContainerMeta {
                id: container.id,
                runtime: Some(runtime),
                name: container.metadata.map(|m| m.name).filter(|n| !n.is_empty()),
                image,
                image_digest: digest_of(&container.image_ref),
                privileged: None,
                pod: pods.get(&container.pod_sandbox_id).cloned(),
            }
        })
        .collect()
}

/// Decodes a unary `ListContainers` response body (one gRPC frame) into attribution metadata,
/// pods left empty: for tools and fuzzing that hold raw bytes.
pub fn decode_list_containers(
    runtime: Runtime,
    body: &[u8],
) -> Result<Vec<ContainerMeta>, CriError> {
    use prost::Message;
    let response = proto::ListContainersResponse::decode(unframe(body)?)?;
    Ok(join(runtime, response.containers, Vec::new()))
}

/// `sha256:…` from an image ID or a `repo@sha256:…` reference.
pub fn digest_of(reference: &str) -> Option<String> {
    let digest = reference
        .rsplit_once('@')
        .map_or(reference, |(_, digest)| digest);
    digest.starts_with("sha256:").then(|| digest.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    #[test]
    fn frames_round_trip() {
        let message = proto::ContainerMetadata {
            name: "web".to_string(),
            attempt: 2,
        }
        .encode_to_vec();
        let framed = frame(&message);
        assert_eq!(framed.first(), Some(&0));
        assert_eq!(
            framed.get(1..5),
            Some(&(message.len() as u32).to_be_bytes()[..])
        );
        assert_eq!(unframe(&framed).expect("unframe"), message.as_slice());
        assert!(unframe(&[0, 0, 0]).is_err());
        assert!(unframe(&[1, 0, 0, 0, 0]).is_err());
        assert!(unframe(&[0, 0, 0, 0, 9, 1]).is_err());
        assert!(unframe(&[0, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert_eq!(unframe(&[]).expect("empty body"), &[] as &[u8]);
    }

    #[test]
    fn status_headers() {
        let mut headers = http::HeaderMap::new();
        assert!(check_status(&headers).is_ok());
        headers.insert("grpc-status", http::HeaderValue::from_static("0"));
        assert!(check_status(&headers).is_ok());
        headers.insert("grpc-status", http::HeaderValue::from_static("12"));
        headers.insert(
            "grpc-message",
            http::HeaderValue::from_static("unimplemented"),
        );
        match check_status(&headers) {
            Err(CriError::Status { code, message }) => {
                assert_eq!((code, message.as_str()), (12, "unimplemented"));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn join_names_images_and_pods() {
        let sandbox = proto::PodSandbox {
            id: "sb1".to_string(),
            metadata: Some(proto::PodSandboxMetadata {
                name: "web-0".to_string(),
                uid: "u1".to_string(),
                namespace: "shop".to_string(),
                attempt: 0,
            }),
            state: 0,
            labels: [
                ("app".to_string(), "web".to_string()),
                ("io.kubernetes.pod.name".to_string(), "web-0".to_string()),
            ]
            .into_iter()
            .collect(),
        };
        let container = proto::Container {
            id: "c1".to_string(),
            pod_sandbox_id: "sb1".to_string(),
            metadata: Some(proto::ContainerMetadata {
                name: "nginx".to_string(),
                attempt: 0,
            }),
            image: Some(proto::ImageSpec {
                image: "sha256:abc".to_string(),
                user_specified_image: "nginx:1.27".to_string(),
            }),
            image_ref: "docker.io/library/nginx@sha256:def".to_string(),
            state: 1,
            ..Default::default()
        };
        let orphan = proto::Container {
            id: "c2".to_string(),
            image: Some(proto::ImageSpec {
                image: "sha256:abc".to_string(),
                user_specified_image: String::new(),
            }),
            ..Default::default()
        };
        let metas = join(Runtime::Containerd, vec![container, orphan], vec![sandbox]);
        let first = metas.first().expect("c1");
        assert_eq!(first.name.as_deref(), Some("nginx"));
        assert_eq!(first.image.as_deref(), Some("nginx:1.27"));
        assert_eq!(first.image_digest.as_deref(), Some("sha256:def"));
        let pod = first.pod.as_ref().expect("pod");
        assert_eq!(
            (pod.namespace.as_str(), pod.name.as_str()),
            ("shop", "web-0")
        );
        assert_eq!(pod.labels.len(), 1);
        assert_eq!(pod.labels.get("app").map(String::as_str), Some("web"));
        let second = metas.get(1).expect("c2");
        // an image ID is not an image name
        assert_eq!(second.image, None);
        assert_eq!(second.pod, None);
    }

    #[test]
    fn decode_a_framed_list() {
        let response = proto::ListContainersResponse {
            containers: vec![proto::Container {
                id: "c9".to_string(),
                metadata: Some(proto::ContainerMetadata {
                    name: "api".to_string(),
                    attempt: 1,
                }),
                ..Default::default()
            }],
        };
        let body = frame(&response.encode_to_vec());
        let metas = decode_list_containers(Runtime::CriO, &body).expect("decodes");
        assert_eq!(metas.len(), 1);
        assert_eq!(metas.first().and_then(|m| m.name.as_deref()), Some("api"));
        assert_eq!(metas.first().and_then(|m| m.runtime), Some(Runtime::CriO));
        // a length-delimited field whose length runs past the end
        assert!(decode_list_containers(Runtime::CriO, &frame(&[0x0a, 0x7f, 0x01])).is_err());
    }

    #[test]
    fn digests() {
        assert_eq!(digest_of("sha256:1").as_deref(), Some("sha256:1"));
        assert_eq!(digest_of("r/x@sha256:2").as_deref(), Some("sha256:2"));
        assert_eq!(digest_of("nginx:1.27"), None);
        assert_eq!(digest_of(""), None);
    }

    #[test]
    fn unreachable_socket_is_an_error_not_a_hang() {
        let client = CriClient::new("/nonexistent/cri.sock", Duration::from_millis(500));
        let started = std::time::Instant::now();
        assert!(matches!(client.snapshot(), Err(CriError::Connect { .. })));
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(client.runtime(), Runtime::Containerd);
        assert_eq!(
            CriClient::new(CRIO_SOCKET, Duration::ZERO).runtime(),
            Runtime::CriO
        );
    }
}
