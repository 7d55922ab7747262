//! Encryption of personal data at rest (AES-256-GCM) and the keyed hash that finds an ID number
//! without decrypting anything (a blind index, HMAC-SHA256).

use std::collections::BTreeMap;
use std::fmt;

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::Error;

/// The keys for personal data: the current encryption key, older ones still needed to decrypt
/// records written before a rotation, and the blind-index key (which does not rotate with them,
/// or every stored hash would change).
#[derive(Clone)]
pub struct Keyring {
    current: String,
    keys: BTreeMap<String, [u8; 32]>,
    index_key: [u8; 32],
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Key material is never printed; the ids say which keys are loaded.
        f.debug_struct("Keyring")
            .field("current", &self.current)
            .field("keys", &self.keys.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// A key's public name: the first 8 hex digits of its SHA-256, stored beside each ciphertext.
pub fn key_id(key: &[u8; 32]) -> String {
    hex::encode(&Sha256::digest(key)[..4])
}

impl Keyring {
    pub fn new(data_key: [u8; 32], index_key: [u8; 32]) -> Self {
        let current = key_id(&data_key);
        Self {
            keys: BTreeMap::from([(current.clone(), data_key)]),
            current,
            index_key,
        }
    }

    /// Parses keys written as 64 hexadecimal digits each.
    pub fn from_hex(data_key: &str, index_key: &str) -> Result<Self, String> {
        Ok(Self::new(
            parse_key(data_key, "data key")?,
            parse_key(index_key, "index key")?,
        ))
    }

    /// Adds an older key, still used to decrypt what it encrypted.
    pub fn with_old_key(mut self, key: [u8; 32]) -> Self {
        self.keys.entry(key_id(&key)).or_insert(key);
        self
    }

    /// Whether a record under `key_id` should be re-encrypted (it is not under the current key).
    pub fn is_old(&self, key_id: &str) -> bool {
        key_id != self.current
    }

    pub fn current_key_id(&self) -> &str {
        &self.current
    }

    /// Encrypts `plaintext`, binding it to `aad` (the record's place) so that a ciphertext
    /// copied to another row does not decrypt. Returns the key id, nonce and ciphertext.
    pub fn encrypt(
        &self,
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<(String, Vec<u8>, Vec<u8>), Error> {
        let key = self
            .keys
            .get(&self.current)
            .ok_or_else(|| Error::Crypto("current key missing".into()))?;
        let cipher =
            Aes256Gcm::new_from_slice(key).map_err(|_| Error::Crypto("bad key length".into()))?;
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ct = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .map_err(|_| Error::Crypto("encryption failed".into()))?;
        Ok((self.current.clone(), nonce.to_vec(), ct))
    }

    pub fn decrypt(
        &self,
        key_id: &str,
        nonce: &[u8],
        ciphertext: &[u8],
        aad: &[u8],
    ) -> Result<Vec<u8>, Error> {
        let key = self
            .keys
            .get(key_id)
            .ok_or_else(|| Error::Crypto(format!("no key with id {key_id} is loaded")))?;
        let nonce: [u8; 12] = nonce
            .try_into()
            .map_err(|_| Error::Crypto("stored nonce has the wrong length".into()))?;
        let cipher =
            Aes256Gcm::new_from_slice(key).map_err(|_| Error::Crypto("bad key length".into()))?;
        cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .map_err(|_| Error::Crypto("a personal-data record failed authentication".into()))
    }

    /// The key of the audit chain's HMAC: derived from the index key, which is kept outside the
    /// database and never rotates, as a chain key must not (every record would need re-keying).
    /// Derived under its own label, so no HMAC of the chain is ever a blind index or the reverse.
    pub fn audit_key(&self) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.index_key)
            .unwrap_or_else(|_| unreachable!());
        mac.update(b"duban audit chain v1");
        mac.finalize().into_bytes().into()
    }

    /// The key kept outside the database that never rotates, for keys derived from it.
    pub(crate) fn index_key(&self) -> &[u8; 32] {
        &self.index_key
    }

    /// The blind index of an ID number: HMAC-SHA256 under the index key, hex.
    pub fn blind_index(&self, id_number: &str) -> String {
        // new_from_slice accepts any key length for HMAC; 32 bytes cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.index_key)
            .unwrap_or_else(|_| unreachable!());
        mac.update(id_number.trim().to_ascii_uppercase().as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

fn parse_key(s: &str, what: &str) -> Result<[u8; 32], String> {
    let bytes =
        hex::decode(s.trim()).map_err(|_| format!("the {what} must be 64 hexadecimal digits"))?;
    bytes
        .try_into()
        .map_err(|_| format!("the {what} must be 64 hexadecimal digits (32 bytes)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring() -> Keyring {
        Keyring::new([7; 32], [9; 32])
    }

    #[test]
    fn what_is_encrypted_decrypts_only_at_its_own_place() {
        let r = ring();
        let (id, nonce, ct) = r.encrypt(b"case-1/1/constituent", b"secret").unwrap();
        assert_eq!(
            r.decrypt(&id, &nonce, &ct, b"case-1/1/constituent")
                .unwrap(),
            b"secret"
        );
        assert!(
            r.decrypt(&id, &nonce, &ct, b"case-2/1/constituent")
                .is_err()
        );
        assert!(!ct.windows(6).any(|w| w == b"secret"));
    }

    #[test]
    fn an_old_key_still_decrypts_after_rotation() {
        let old = ring();
        let (id, nonce, ct) = old.encrypt(b"a", b"x").unwrap();
        let rotated = Keyring::new([8; 32], [9; 32]).with_old_key([7; 32]);
        assert_ne!(rotated.current_key_id(), id);
        assert_eq!(rotated.decrypt(&id, &nonce, &ct, b"a").unwrap(), b"x");
        assert_eq!(
            rotated.blind_index("11010519491231002x"),
            old.blind_index("11010519491231002X")
        );
    }

    #[test]
    fn keys_never_show_in_debug() {
        let shown = format!("{:?}", ring());
        assert!(!shown.contains("7, 7"), "{shown}");
        assert!(Keyring::from_hex("abc", "def").is_err());
    }
}
