//! Reading an ingestion body without trusting its size: the bytes are counted against the
//! server-wide memory budget as they arrive, a gzip body is inflated as it streams in, and
//! reading stops at the first byte past a limit. A small gzip body that would inflate to
//! gigabytes costs at most its limit, and many at once cost at most the budget.

use axum::body::Body;
use axum::http::{HeaderMap, header};
use http_body_util::BodyExt;
use std::io::Write;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The smallest buffer a body starts with.
const FIRST_CAPACITY: usize = 64 * 1024;
/// Compressed bytes inflated between two yields to the runtime: a thousandfold body inflates
/// about a MiB per step, a few milliseconds, so other requests on the thread are not held up.
const INFLATE_STEP: usize = 1024;

/// Bytes of bodies in memory at once, across all requests, counted in KiB.
#[derive(Clone)]
pub struct Budget {
    kib: Arc<Semaphore>,
    total: usize,
}

impl Budget {
    pub fn new(bytes: usize) -> Budget {
        let kib = (bytes / 1024).clamp(1, Semaphore::MAX_PERMITS);
        Budget {
            kib: Arc::new(Semaphore::new(kib)),
            total: kib * 1024,
        }
    }

    /// The whole budget, in bytes: no single body may be larger.
    pub fn total(&self) -> usize {
        self.total
    }

    /// Bytes not reserved by any body now.
    pub fn available(&self) -> usize {
        self.kib.available_permits() * 1024
    }
}

/// How large a body may be.
#[derive(Clone, Copy, Debug)]
pub struct SizeLimits {
    /// As sent.
    pub sent: usize,
    /// Once decompressed.
    pub decoded: usize,
}

/// A body read whole, holding its part of the budget until dropped.
pub struct Intake {
    pub bytes: Vec<u8>,
    _reserved: Option<OwnedSemaphorePermit>,
}

/// Why a body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error("the body may be at most {} MiB{}", .limit / 1024 / 1024, if *.decoded { " once decompressed" } else { "" })]
    TooLarge { limit: usize, decoded: bool },
    #[error("the body did not arrive in time")]
    TimedOut,
    #[error("the request body could not be read")]
    Broken,
    #[error("the body is not valid gzip: {0}")]
    BadGzip(String),
    #[error("Content-Encoding '{0}' is not supported; send gzip or no encoding")]
    UnsupportedEncoding(String),
    #[error("the server is receiving too much data at once; retry after Retry-After seconds")]
    OverBudget,
}

/// Where the body's bytes go: a buffer that stops at its limit and reserves budget as it grows.
struct Sink {
    bytes: Vec<u8>,
    limit: usize,
    decoded: bool,
    budget: Budget,
    reserved: Option<OwnedSemaphorePermit>,
    reserved_kib: usize,
}

impl Write for Sink {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let len = self.bytes.len() + data.len();
        if len > self.limit {
            return Err(std::io::Error::other(IntakeError::TooLarge {
                limit: self.limit,
                decoded: self.decoded,
            }));
        }
        if len > self.bytes.capacity() {
            // The buffer grows by doubling, as a Vec does, but the budget pays for the whole
            // new capacity before it is allocated.
            let capacity = len
                .max(self.bytes.capacity() * 2)
                .max(FIRST_CAPACITY)
                .min(self.limit);
            let needed = capacity.div_ceil(1024);
            if needed > self.reserved_kib {
                let step = u32::try_from(needed - self.reserved_kib).unwrap_or(u32::MAX);
                let permit = self
                    .budget
                    .kib
                    .clone()
                    .try_acquire_many_owned(step)
                    .map_err(|_| std::io::Error::other(IntakeError::OverBudget))?;
                self.reserved_kib += step as usize;
                match &mut self.reserved {
                    Some(reserved) => reserved.merge(permit),
                    None => self.reserved = Some(permit),
                }
            }
            self.bytes.reserve_exact(capacity - self.bytes.len());
        }
        self.bytes.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The intake error an I/O error carries, or what a gzip stream's own error means.
fn classify(error: std::io::Error) -> IntakeError {
    if error.get_ref().is_some_and(|e| e.is::<IntakeError>()) {
        if let Some(inner) = error.into_inner()
            && let Ok(intake) = inner.downcast::<IntakeError>()
        {
            return *intake;
        }
        return IntakeError::Broken;
    }
    IntakeError::BadGzip(error.to_string())
}

/// Whether a body error is the body deadline (see `connections`) or the connection breaking.
fn body_error(error: axum::Error) -> IntakeError {
    let inner = error.into_inner();
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(inner.as_ref());
    while let Some(error) = source {
        if error.is::<crate::connections::BodyTimedOut>() {
            return IntakeError::TimedOut;
        }
        source = error.source();
    }
    IntakeError::Broken
}

/// Reads `body` whole, inflating it if `Content-Encoding: gzip` says so.
pub async fn read_body(
    body: Body,
    headers: &HeaderMap,
    limits: SizeLimits,
    budget: &Budget,
) -> Result<Intake, IntakeError> {
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap_or("?").trim().to_ascii_lowercase())
        .unwrap_or_default();
    let gzip = match encoding.as_str() {
        "" | "identity" => false,
        "gzip" => true,
        other => return Err(IntakeError::UnsupportedEncoding(other.to_owned())),
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let too_large_sent = IntakeError::TooLarge {
        limit: limits.sent,
        decoded: false,
    };
    if declared.is_some_and(|length| length > limits.sent as u64) {
        return Err(too_large_sent);
    }
    let sink = Sink {
        bytes: Vec::new(),
        limit: if gzip {
            limits.decoded.min(budget.total())
        } else {
            limits.sent.min(budget.total())
        },
        decoded: gzip,
        budget: budget.clone(),
        reserved: None,
        reserved_kib: 0,
    };
    let mut writer = if gzip {
        Writer::Gzip(Box::new(flate2::write::GzDecoder::new(sink)))
    } else {
        Writer::Plain(sink)
    };
    let mut sent = 0usize;
    let mut body = body;
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame.map_err(body_error)?.into_data() else {
            continue;
        };
        sent += data.len();
        if sent > limits.sent {
            return Err(too_large_sent);
        }
        match &mut writer {
            Writer::Gzip(decoder) => {
                for piece in data.chunks(INFLATE_STEP) {
                    decoder.write_all(piece).map_err(classify)?;
                    tokio::task::yield_now().await;
                }
            }
            Writer::Plain(sink) => sink.write_all(&data).map_err(classify)?,
        }
    }
    let sink = match writer {
        Writer::Gzip(decoder) => decoder.finish().map_err(classify)?,
        Writer::Plain(sink) => sink,
    };
    Ok(Intake {
        bytes: sink.bytes,
        _reserved: sink.reserved,
    })
}

enum Writer {
    Gzip(Box<flate2::write::GzDecoder<Sink>>),
    Plain(Sink),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    fn gzip_headers() -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_ENCODING, "gzip".parse().unwrap());
        headers
    }

    const LIMITS: SizeLimits = SizeLimits {
        sent: 1024 * 1024,
        decoded: 4 * 1024 * 1024,
    };

    #[tokio::test]
    async fn a_gzip_body_is_inflated_and_its_budget_returned_when_dropped() {
        let budget = Budget::new(8 * 1024 * 1024);
        let text = b"{\"calls\": []}".repeat(1000);
        let intake = read_body(Body::from(gzip(&text)), &gzip_headers(), LIMITS, &budget)
            .await
            .unwrap();
        assert_eq!(intake.bytes, text);
        assert!(budget.available() < budget.total());
        drop(intake);
        assert_eq!(budget.available(), budget.total());
    }

    #[tokio::test]
    async fn a_gzip_bomb_stops_at_the_decoded_limit() {
        let budget = Budget::new(64 * 1024 * 1024);
        let bomb = gzip(&vec![0u8; 32 * 1024 * 1024]);
        let refused = read_body(Body::from(bomb), &gzip_headers(), LIMITS, &budget).await;
        assert!(matches!(
            refused,
            Err(IntakeError::TooLarge { decoded: true, .. })
        ));
        assert_eq!(budget.available(), budget.total(), "nothing stays reserved");
    }

    #[tokio::test]
    async fn a_body_past_the_remaining_budget_is_refused_for_now() {
        let budget = Budget::new(2 * 1024 * 1024);
        let held = read_body(
            Body::from(vec![b' '; 1536 * 1024]),
            &HeaderMap::new(),
            SizeLimits {
                sent: 2 * 1024 * 1024,
                decoded: 2 * 1024 * 1024,
            },
            &budget,
        )
        .await
        .unwrap();
        let refused = read_body(
            Body::from(vec![b' '; 1024 * 1024]),
            &HeaderMap::new(),
            LIMITS,
            &budget,
        )
        .await;
        assert!(matches!(refused, Err(IntakeError::OverBudget)));
        drop(held);
    }
}
