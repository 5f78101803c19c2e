//! Calls sent as bytes encoded once, answers read only as far as the check
//! needs: a load generator's way, so that the client sharing the machine's
//! two cores spends as little of them as it can on the calls it compares.
//! Both calls of a comparison go this way, so neither is favoured.

use prost::bytes::{Buf, BufMut, Bytes};
use tonic::Status;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::codegen::http::uri::PathAndQuery;
use tonic::metadata::{Ascii, MetadataValue};

/// Passes the message's bytes through untouched, both ways.
#[derive(Debug, Clone, Copy, Default)]
pub struct BytesCodec;

impl Codec for BytesCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = BytesCodec;
    type Decoder = BytesCodec;

    fn encoder(&mut self) -> Self::Encoder {
        BytesCodec
    }

    fn decoder(&mut self) -> Self::Decoder {
        BytesCodec
    }
}

impl Encoder for BytesCodec {
    type Item = Bytes;
    type Error = Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for BytesCodec {
    type Item = Bytes;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        let n = src.remaining();
        Ok(Some(src.copy_to_bytes(n)))
    }
}

/// One unary call made of bytes, and how its answer is checked.
#[derive(Debug, Clone)]
pub struct RawCall {
    pub name: &'static str,
    pub path: PathAndQuery,
    pub request: Bytes,
    pub bearer: Option<MetadataValue<Ascii>>,
    /// Refuses an answer that is not the expected one.
    pub check: fn(&[u8]) -> Result<(), String>,
}

impl RawCall {
    /// `grpc.health.v1.Health/Check` for the whole server (an empty
    /// request); must answer SERVING.
    pub fn health() -> Self {
        Self {
            name: "Health/Check",
            path: PathAndQuery::from_static("/grpc.health.v1.Health/Check"),
            request: Bytes::new(),
            bearer: None,
            check: |reply| {
                // Field 1 (status), varint 1 (SERVING).
                if reply == [0x08, 0x01] {
                    Ok(())
                } else {
                    Err(format!("Health/Check answered {reply:?}"))
                }
            },
        }
    }
}

/// How many times each top-level field of a protobuf message occurs, for
/// fields numbered below `N`; an error if the bytes are not a message.
pub fn field_counts<const N: usize>(mut buf: &[u8]) -> Result<[usize; N], String> {
    let mut counts = [0; N];
    while buf.has_remaining() {
        let key = varint(&mut buf)?;
        let (field, wire_type) = (key >> 3, key & 7);
        let skip = match wire_type {
            0 => {
                varint(&mut buf)?;
                0
            }
            1 => 8,
            2 => usize::try_from(varint(&mut buf)?).map_err(|e| e.to_string())?,
            5 => 4,
            other => return Err(format!("wire type {other}")),
        };
        if skip > buf.remaining() {
            return Err("a field runs past the end".into());
        }
        buf.advance(skip);
        if let Some(c) = usize::try_from(field).ok().and_then(|f| counts.get_mut(f)) {
            *c += 1;
        }
    }
    Ok(counts)
}

fn varint(buf: &mut &[u8]) -> Result<u64, String> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        if !buf.has_remaining() {
            return Err("a varint runs past the end".into());
        }
        let byte = buf.get_u8();
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err("a varint longer than 10 bytes".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_the_top_level_fields_and_refuses_truncated_bytes() {
        // Field 1 twice (length-delimited), field 3 (varint 300), field 4 once.
        let msg = [
            0x0a, 0x01, 0xff, 0x0a, 0x00, 0x18, 0xac, 0x02, 0x22, 0x02, 0x01, 0x02,
        ];
        assert_eq!(field_counts::<5>(&msg), Ok([0, 2, 0, 1, 1]));
        assert!(field_counts::<5>(&msg[..msg.len() - 1]).is_err());
        assert!(field_counts::<5>(&[0x18, 0xac]).is_err());
    }
}
