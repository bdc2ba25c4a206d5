//! Where images come from. Every source describes the image ([`ImageInfo`]: manifest and config
//! digests, platform, layers in order) and opens each layer as a stream of the blob as stored —
//! compressed or not; the layer reader detects the compression and verifies the digest.

use std::io::Read;

use palisade_core::ImageInfo;

use crate::error::ImageError;

/// An image whose layers can be streamed.
pub trait ImageSource: Send + Sync {
    /// The image: reference as given, digests, platform, layers (base first).
    fn info(&self) -> &ImageInfo;

    /// Opens layer `index` (into [`ImageInfo::layers`]) as the stored blob. May be called from
    /// several threads at once, for different layers.
    fn open_layer(&self, index: usize) -> Result<Box<dyn Read + Send + '_>, ImageError>;
}
