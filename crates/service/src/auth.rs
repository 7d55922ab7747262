//! Bearer tokens: long random strings shown once, stored only as a SHA-256 hash. A fast hash is
//! right here: a token has 244 random bits, so there is nothing to guess slowly.

use sha2::{Digest, Sha256};

use crate::Principal;

/// A bearer token as sent, not yet checked, and where it came from: enough to record its
/// refusal (a security event) if it does not work.
#[derive(Clone)]
pub struct Credential {
    pub token: String,
    /// The client's address, or `api` if it is not known.
    pub source: String,
    /// The path asked for.
    pub path: String,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token is a credential: never in a log line.
        f.debug_struct("Credential")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// Who asks for a use case: someone already known (a signed-in page, a token already
/// checked), or a bearer token to be checked in the use case's own read.
#[derive(Debug, Clone, Copy)]
pub enum Caller<'a> {
    Known(&'a Principal),
    Bearer(&'a Credential),
}

impl<'a> From<&'a Principal> for Caller<'a> {
    fn from(p: &'a Principal) -> Self {
        Caller::Known(p)
    }
}

impl<'a> From<&'a Credential> for Caller<'a> {
    fn from(c: &'a Credential) -> Self {
        Caller::Bearer(c)
    }
}

/// The hash a token is stored and looked up by.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.trim().as_bytes()))
}

/// A new token (`dbn_` and 64 hex digits) and its public id (`tok_` and 12 hex digits).
pub fn new_token() -> (String, String) {
    // UUID v4s come from the operating system's random source: 122 random bits each.
    let a = uuid::Uuid::new_v4().simple().to_string();
    let b = uuid::Uuid::new_v4().simple().to_string();
    let token = format!("dbn_{a}{b}");
    let id = format!(
        "tok_{}",
        &hex::encode(Sha256::digest(token.as_bytes()))[..12]
    );
    (token, id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_stored_only_as_hashes() {
        let (t1, id1) = new_token();
        let (t2, id2) = new_token();
        assert_ne!(t1, t2);
        assert_ne!(id1, id2);
        assert!(t1.starts_with("dbn_") && t1.len() == 68);
        assert_eq!(hash_token(&t1), hash_token(&format!(" {t1}\n")));
        assert!(!hash_token(&t1).contains(&t1[4..]));
    }
}
