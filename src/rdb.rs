//! Redis's RDB encoding, the parts tandem writes and reads today: lengths,
//! strings (raw, integer-encoded and LZF-compressed) and the trailer of a
//! DUMP payload (RDB version and CRC-64). Follows Redis 7.0's `rdb.c`
//! (`rdbSaveLen`, `rdbSaveRawString`, `rdbGenericLoadStringObject`) and
//! `cluster.c` (`createDumpPayload`, `verifyDumpPayload`); FUNCTION DUMP
//! and RESTORE use it, and RDB files will.
//!
//! Reading never trusts a length: every length is checked against the
//! bytes left before anything is allocated.

/// The RDB version tandem writes: Redis 7.0's.
pub const RDB_VERSION: u16 = 10;
/// A library's code follows (`RDB_OPCODE_FUNCTION2`).
pub const OPCODE_FUNCTION2: u8 = 245;
/// Redis 7.0 release candidates' function format (`RDB_OPCODE_FUNCTION_PRE_GA`).
pub const OPCODE_FUNCTION_PRE_GA: u8 = 246;

/// Longest string read (512 MiB, Redis's default `proto-max-bulk-len`).
const MAX_STRING: u64 = 512 << 20;

const ENC_INT8: u8 = 0;
const ENC_INT16: u8 = 1;
const ENC_INT32: u8 = 2;
const ENC_LZF: u8 = 3;

/// Appends length `n` in RDB's variable-length form (6, 14, 32 or 64 bits).
pub fn write_len(out: &mut Vec<u8>, n: u64) {
    if n < 1 << 6 {
        out.push(n as u8);
    } else if n < 1 << 14 {
        out.push(0x40 | (n >> 8) as u8);
        out.push(n as u8);
    } else if n <= u32::MAX as u64 {
        out.push(0x80);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// Appends string `s` as `rdbSaveRawString` does with `rdbcompression
/// yes` (Redis's default): as an integer when it is one's canonical
/// spelling in at most 11 bytes, LZF-compressed when longer than 20 bytes
/// and that saves at least 4 bytes, raw otherwise.
pub fn write_string(out: &mut Vec<u8>, s: &[u8]) {
    if s.len() <= 11 {
        if let Some(n) = canonical_int(s) {
            if let Ok(v) = i8::try_from(n) {
                out.extend_from_slice(&[0xC0 | ENC_INT8, v as u8]);
                return;
            }
            if let Ok(v) = i16::try_from(n) {
                out.push(0xC0 | ENC_INT16);
                out.extend_from_slice(&v.to_le_bytes());
                return;
            }
            if let Ok(v) = i32::try_from(n) {
                out.push(0xC0 | ENC_INT32);
                out.extend_from_slice(&v.to_le_bytes());
                return;
            }
        }
    }
    if s.len() > 20 {
        if let Ok(c) = lzf::compress(s) {
            // Redis gives the compressor `len - 4` bytes of room.
            if c.len() <= s.len() - 4 {
                out.push(0xC0 | ENC_LZF);
                write_len(out, c.len() as u64);
                write_len(out, s.len() as u64);
                out.extend_from_slice(&c);
                return;
            }
        }
    }
    write_len(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// `s` as an integer if it is one's canonical decimal spelling
/// (`rdbTryIntegerEncoding`: "12" yes, "012", "+1", " 1" no).
fn canonical_int(s: &[u8]) -> Option<i64> {
    let n: i64 = std::str::from_utf8(s).ok()?.parse().ok()?;
    (n.to_string().as_bytes() == s).then_some(n)
}

/// Why a payload could not be read.
pub type ReadError = &'static str;

/// A reader over RDB bytes.
pub struct Reader<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, at: 0 }
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.at
    }

    pub fn byte(&mut self) -> Result<u8, ReadError> {
        let b = *self.buf.get(self.at).ok_or("unexpected end of data")?;
        self.at += 1;
        Ok(b)
    }

    fn take(&mut self, n: u64) -> Result<&'a [u8], ReadError> {
        if n > self.remaining() as u64 {
            return Err("unexpected end of data");
        }
        let s = &self.buf[self.at..self.at + n as usize];
        self.at += n as usize;
        Ok(s)
    }

    /// A length, or (for strings) the special encoding it announces:
    /// `(value, encoded)`.
    fn len_or_encoding(&mut self) -> Result<(u64, bool), ReadError> {
        let b = self.byte()?;
        match b >> 6 {
            0 => Ok(((b & 0x3F) as u64, false)),
            1 => Ok(((((b & 0x3F) as u64) << 8) | self.byte()? as u64, false)),
            2 => match b {
                0x80 => {
                    let s = self.take(4)?;
                    Ok((u32::from_be_bytes([s[0], s[1], s[2], s[3]]) as u64, false))
                }
                0x81 => {
                    let s = self.take(8)?;
                    let mut a = [0u8; 8];
                    a.copy_from_slice(s);
                    Ok((u64::from_be_bytes(a), false))
                }
                _ => Err("unknown length encoding"),
            },
            _ => Ok(((b & 0x3F) as u64, true)),
        }
    }

    /// A length (`rdbLoadLen`).
    pub fn len(&mut self) -> Result<u64, ReadError> {
        match self.len_or_encoding()? {
            (n, false) => Ok(n),
            _ => Err("unexpected string encoding"),
        }
    }

    /// A string in any of its encodings (`rdbGenericLoadStringObject`).
    pub fn string(&mut self) -> Result<Vec<u8>, ReadError> {
        match self.len_or_encoding()? {
            (n, false) => Ok(self.take(n)?.to_vec()),
            (e, true) => match e as u8 {
                ENC_INT8 => Ok((self.byte()? as i8).to_string().into_bytes()),
                ENC_INT16 => {
                    let s = self.take(2)?;
                    Ok(i16::from_le_bytes([s[0], s[1]]).to_string().into_bytes())
                }
                ENC_INT32 => {
                    let s = self.take(4)?;
                    Ok(i32::from_le_bytes([s[0], s[1], s[2], s[3]])
                        .to_string()
                        .into_bytes())
                }
                ENC_LZF => {
                    let clen = self.len()?;
                    let len = self.len()?;
                    let c = self.take(clen)?;
                    // LZF expands at most ~256/3 times per input byte (a
                    // 3-byte back reference yields up to 264): a length
                    // beyond that is a lie, refused before allocating.
                    if len == 0 || len > clen.saturating_mul(90) || len > MAX_STRING {
                        return Err("invalid LZF lengths");
                    }
                    let out = lzf::decompress(c, len as usize).map_err(|_| "invalid LZF data")?;
                    if out.len() as u64 != len {
                        return Err("invalid LZF data");
                    }
                    Ok(out)
                }
                _ => Err("unknown string encoding"),
            },
        }
    }
}

/// CRC-64 as Redis computes it (Jones polynomial, reflected; `crc64.c`).
pub fn crc64(bytes: &[u8]) -> u64 {
    const CRC: crc::Crc<u64> = crc::Crc::<u64>::new(&crc::CRC_64_REDIS);
    CRC.checksum(bytes)
}

/// Appends a DUMP payload's trailer to `body`: the RDB version (2 bytes,
/// little-endian) and the CRC-64 of everything before it (8 bytes,
/// little-endian), as `createDumpPayload`.
pub fn seal_payload(mut body: Vec<u8>) -> Vec<u8> {
    body.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64(&body);
    body.extend_from_slice(&crc.to_le_bytes());
    body
}

/// The body of a DUMP payload and its RDB version, once its trailer
/// checks out (`verifyDumpPayload`): at least 10 bytes, a version no newer
/// than ours, and a matching CRC-64.
pub fn open_payload(p: &[u8]) -> Option<(&[u8], u16)> {
    let body_len = p.len().checked_sub(10)?;
    let version = u16::from_le_bytes([p[body_len], p[body_len + 1]]);
    if version > RDB_VERSION {
        return None;
    }
    let mut want = [0u8; 8];
    want.copy_from_slice(&p[body_len + 2..]);
    (crc64(&p[..body_len + 2]) == u64::from_le_bytes(want)).then_some((&p[..body_len], version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc64_is_redis_one() {
        // crc64.c's self-test vector.
        assert_eq!(crc64(b"123456789"), 0xe9c6d914c4b8d9ca);
    }

    #[test]
    fn strings_round_trip_in_every_encoding() {
        let long = b"abcabcabcabcabcabcabcabcabcabcabcabcabc".to_vec();
        for s in [
            &b""[..],
            b"x",
            b"12",
            b"-129",
            b"40000",
            b"-2147483648",
            b"2147483648",
            b"012",
            &long,
            &[7u8; 300][..],
        ] {
            let mut out = Vec::new();
            write_string(&mut out, s);
            let mut r = Reader::new(&out);
            assert_eq!(r.string().unwrap(), s, "{s:?}");
            assert_eq!(r.remaining(), 0);
        }
        let mut out = Vec::new();
        write_string(&mut out, &long);
        assert_eq!(out[0], 0xC3, "compressed");
    }

    #[test]
    fn lying_lengths_are_refused() {
        // An LZF string that claims 4 GB from 3 bytes.
        let bad = [0xC3, 0x03, 0x80, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3];
        assert!(Reader::new(&bad).string().is_err());
        assert!(
            Reader::new(&[0x80, 0xFF, 0xFF, 0xFF, 0xFF])
                .string()
                .is_err()
        );
        assert!(open_payload(&[0; 9]).is_none());
        let sealed = seal_payload(vec![1, 2, 3]);
        assert_eq!(
            open_payload(&sealed).map(|(b, _)| b),
            Some(&[1u8, 2, 3][..])
        );
        let mut broken = sealed.clone();
        broken[0] ^= 1;
        assert!(open_payload(&broken).is_none());
    }
}
