//! Signed links: one person's offer, made in a message, to take one action on one case without
//! signing in (a deputy rating a reply from the e-mail). A link is sealed with AES-256-GCM under
//! a key of its own, so that it names no one to whoever reads it, and cannot be forged or
//! altered. It grants nothing by itself: when it is used, the service checks the action again
//! as that person.

use std::fmt;

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use jiff::Timestamp;
use sha2::Sha256;

use crate::Keyring;

/// What a link offers, and to whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedLink {
    pub case_id: String,
    pub login: String,
    pub action: String,
    /// When the case entered the state the link was made in: the round (the reply) it is
    /// for. Once the case has left that state, the link is spent.
    pub round: Timestamp,
    /// It works until this instant (the end of the rating window).
    pub expires: Timestamp,
}

/// The key links are sealed under. Never printed.
#[derive(Clone)]
pub struct LinkKey([u8; 32]);

impl fmt::Debug for LinkKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LinkKey(..)")
    }
}

/// Bound into every link, so that no other ciphertext under the key reads as one.
const AAD: &[u8] = b"duban signed link v1";

impl Keyring {
    /// The links' key: derived from the index key, which is kept outside the database and
    /// does not rotate (links already sent keep working across a data-key rotation), under a
    /// label of its own, so that it is neither a blind index nor the audit chain's key.
    pub fn link_key(&self) -> LinkKey {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.index_key())
            .unwrap_or_else(|_| unreachable!());
        mac.update(b"duban signed link key v1");
        LinkKey(mac.finalize().into_bytes().into())
    }
}

impl LinkKey {
    /// The link as URL-safe text: a random nonce and the sealed fields.
    pub fn seal(&self, link: &SignedLink) -> String {
        let plain = serde_json::json!([
            link.case_id,
            link.login,
            link.action,
            link.round.as_millisecond(),
            link.expires.as_millisecond(),
        ])
        .to_string();
        let cipher = Aes256Gcm::new(&self.0.into());
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let sealed = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plain.as_bytes(),
                    aad: AAD,
                },
            )
            .unwrap_or_else(|_| unreachable!("AES-GCM encrypts any message under 64 GiB"));
        let mut out = nonce.to_vec();
        out.extend(sealed);
        URL_SAFE_NO_PAD.encode(out)
    }

    /// The link `token` was sealed from, if it was sealed under this key and not altered.
    pub fn open(&self, token: &str) -> Option<SignedLink> {
        let bytes = URL_SAFE_NO_PAD.decode(token.trim()).ok()?;
        if bytes.len() < 12 + 16 {
            return None;
        }
        let (nonce, sealed) = bytes.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().ok()?;
        let plain = Aes256Gcm::new(&self.0.into())
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: sealed,
                    aad: AAD,
                },
            )
            .ok()?;
        let (case_id, login, action, round, expires): (String, String, String, i64, i64) =
            serde_json::from_slice(&plain).ok()?;
        Some(SignedLink {
            case_id,
            login,
            action,
            round: Timestamp::from_millisecond(round).ok()?,
            expires: Timestamp::from_millisecond(expires).ok()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link() -> SignedLink {
        SignedLink {
            case_id: "cas_1".into(),
            login: "deputy_wang".into(),
            action: "evaluate".into(),
            round: Timestamp::from_second(1_700_000_000).expect("ok"),
            expires: Timestamp::from_second(1_702_000_000).expect("ok"),
        }
    }

    #[test]
    fn a_sealed_link_opens_and_names_no_one() {
        let key = Keyring::new([7; 32], [9; 32]).link_key();
        let token = key.seal(&link());
        assert_eq!(key.open(&token), Some(link()));
        assert!(!token.contains("deputy_wang") && !token.contains("cas_1"));
        assert!(
            token
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        // Two links for the same offer differ (a fresh nonce each), and both open.
        let again = key.seal(&link());
        assert_ne!(token, again);
        assert_eq!(key.open(&again), Some(link()));
    }

    #[test]
    fn an_altered_or_foreign_link_does_not_open() {
        let key = Keyring::new([7; 32], [9; 32]).link_key();
        let token = key.seal(&link());
        let mut bytes = URL_SAFE_NO_PAD.decode(&token).expect("ok");
        for i in [0, 12, bytes.len() - 1] {
            bytes[i] ^= 1;
            assert_eq!(key.open(&URL_SAFE_NO_PAD.encode(&bytes)), None, "byte {i}");
            bytes[i] ^= 1;
        }
        let other = Keyring::new([7; 32], [8; 32]).link_key();
        assert_eq!(other.open(&token), None);
        // A new data key does not change the links' key: links survive a rotation.
        let rotated = Keyring::new([1; 32], [9; 32]).link_key();
        assert_eq!(rotated.open(&token), Some(link()));
        for junk in ["", "abc", "!!!!", &"A".repeat(500)] {
            assert_eq!(key.open(junk), None);
        }
    }
}
