//! The envelope every notification arrives in, before its resource is decrypted.

use serde::{Deserialize, Serialize};

/// The envelope every notification arrives in (its `resource` still encrypted).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// The notification's unique id.
    pub id: String,
    /// When the notification was created (RFC 3339), its text kept as it came.
    pub create_time: crate::DateTime,
    /// The event type, e.g. `TRANSACTION.SUCCESS`.
    pub event_type: String,
    /// The resource type, e.g. `encrypt-resource`.
    pub resource_type: String,
    /// A short summary.
    #[serde(default)]
    pub summary: String,
    /// The encrypted payload.
    pub resource: Resource,
}

/// The encrypted payload of a notification (`AEAD_AES_256_GCM` with the APIv3 key).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    /// The algorithm, `AEAD_AES_256_GCM`.
    pub algorithm: String,
    /// Base64 of the ciphertext followed by the 16-byte tag.
    pub ciphertext: String,
    /// The additional authenticated data (may be empty).
    #[serde(default)]
    pub associated_data: String,
    /// The 12-character nonce.
    pub nonce: String,
    /// The payload's type before encryption, e.g. `transaction`.
    #[serde(default)]
    pub original_type: String,
}
