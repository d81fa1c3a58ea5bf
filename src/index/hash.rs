//! Content hashing (SHA-256, hex) used for chunk identity, freshness and checksums.

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{IoContext, Result};

/// Hex SHA-256 of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    to_hex(&Sha256::digest(bytes))
}

/// Hex SHA-256 of the concatenation of `parts`, each prefixed by its length so
/// that `["ab", "c"]` and `["a", "bc"]` differ.
pub fn hex_parts<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    to_hex(&h.finalize())
}

/// Hex SHA-256 of a file's contents, streamed.
pub fn file_hex(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path).ctx("opening", path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).ctx("reading", path)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(to_hex(&h.finalize()))
}

fn to_hex(d: &[u8]) -> String {
    use std::fmt::Write;
    d.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_vector_and_framing() {
        assert_eq!(
            super::hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_ne!(
            super::hex_parts([b"ab".as_slice(), b"c"]),
            super::hex_parts([b"a".as_slice(), b"bc"])
        );
    }
}
