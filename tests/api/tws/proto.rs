//! Just enough protobuf for the stand-in gateway: TWS API messages from server version 201 on
//! travel as protobuf (`ibapi` 5.5 speaks nothing else), and ktrdr has no protobuf crate of its
//! own, so the few messages the gateway reads and writes are coded here by field number, as in
//! IB's `.proto` files (the same numbers as `ibapi`'s generated `proto/protobuf.rs`).

/// A decoded message: its fields in wire order.
#[derive(Debug, Clone, Default)]
pub struct Msg(Vec<(u32, Val)>);

#[derive(Debug, Clone)]
enum Val {
    Varint(u64),
    Fixed64(u64),
    Bytes(Vec<u8>),
    Fixed32(u32),
}

fn varint(buf: &[u8], i: &mut usize) -> Result<u64, String> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *buf.get(*i).ok_or("truncated varint")?;
        *i += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err("varint longer than 10 bytes".into())
}

impl Msg {
    pub fn decode(buf: &[u8]) -> Result<Msg, String> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < buf.len() {
            let key = varint(buf, &mut i)?;
            let (tag, wire) = ((key >> 3) as u32, key & 7);
            let val = match wire {
                0 => Val::Varint(varint(buf, &mut i)?),
                1 => {
                    let b = buf.get(i..i + 8).ok_or("truncated fixed64")?;
                    i += 8;
                    Val::Fixed64(u64::from_le_bytes(b.try_into().unwrap()))
                }
                2 => {
                    let n = varint(buf, &mut i)? as usize;
                    let b = buf.get(i..i + n).ok_or("truncated bytes")?;
                    i += n;
                    Val::Bytes(b.to_vec())
                }
                5 => {
                    let b = buf.get(i..i + 4).ok_or("truncated fixed32")?;
                    i += 4;
                    Val::Fixed32(u32::from_le_bytes(b.try_into().unwrap()))
                }
                w => return Err(format!("wire type {w} (tag {tag})")),
            };
            out.push((tag, val));
        }
        Ok(Msg(out))
    }

    fn last(&self, tag: u32) -> Option<&Val> {
        self.0.iter().rev().find(|(t, _)| *t == tag).map(|(_, v)| v)
    }

    pub fn int(&self, tag: u32) -> Option<i64> {
        match self.last(tag)? {
            Val::Varint(v) => Some(*v as i64),
            _ => None,
        }
    }

    pub fn bool(&self, tag: u32) -> Option<bool> {
        self.int(tag).map(|v| v != 0)
    }

    pub fn str(&self, tag: u32) -> Option<String> {
        match self.last(tag)? {
            Val::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
            _ => None,
        }
    }

    pub fn msg(&self, tag: u32) -> Option<Msg> {
        match self.last(tag)? {
            Val::Bytes(b) => Msg::decode(b).ok(),
            _ => None,
        }
    }

    #[allow(dead_code)]
    pub fn double(&self, tag: u32) -> Option<f64> {
        match self.last(tag)? {
            Val::Fixed64(v) => Some(f64::from_bits(*v)),
            Val::Fixed32(v) => Some(f32::from_bits(*v).into()),
            _ => None,
        }
    }
}

/// Builds a message field by field.
#[derive(Debug, Clone, Default)]
pub struct Enc(pub Vec<u8>);

impl Enc {
    fn key(&mut self, tag: u32, wire: u64) {
        self.put_varint((u64::from(tag) << 3) | wire);
    }

    fn put_varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }

    /// int32/int64 (negative numbers as ten-byte varints, as protobuf does).
    pub fn int(mut self, tag: u32, v: i64) -> Self {
        self.key(tag, 0);
        self.put_varint(v as u64);
        self
    }

    pub fn str(mut self, tag: u32, s: &str) -> Self {
        self.key(tag, 2);
        self.put_varint(s.len() as u64);
        self.0.extend_from_slice(s.as_bytes());
        self
    }

    pub fn double(mut self, tag: u32, v: f64) -> Self {
        self.key(tag, 1);
        self.0.extend_from_slice(&v.to_bits().to_le_bytes());
        self
    }

    pub fn msg(mut self, tag: u32, m: Enc) -> Self {
        self.key(tag, 2);
        self.put_varint(m.0.len() as u64);
        self.0.extend_from_slice(&m.0);
        self
    }
}
