//! Bearer tokens: long random strings shown once, stored only as a SHA-256 hash. A fast hash is
//! right here: a token has 244 random bits, so there is nothing to guess slowly.

use sha2::{Digest, Sha256};

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
