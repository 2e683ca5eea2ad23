//! `bench --only abuse`: hostile loads against a server on loopback with the demo dataset and
//! its default limits. Four bursts, each bounded in count and time: silent and slow
//! connections, heavy reads from one API key, gzip bodies that inflate a thousandfold, and
//! wrong passwords. For each it prints the answers by status, the health check's latency
//! meanwhile, and the server's resident memory. Figures, not assertions.

use super::{demo_server, exchange, finishline, peak_rss_mib};
use anyhow::Context;
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Answers by status; 0 counts requests that got no answer (connection closed or timed out).
type Statuses = BTreeMap<u16, usize>;

/// Sends `head` and `body` over a fresh connection; the status, or 0 without an answer in
/// [`ANSWER_WAIT`].
async fn send(port: u16, head: String, body: Vec<u8>) -> u16 {
    let attempt = async {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
        stream.write_all(head.as_bytes()).await.ok()?;
        stream.write_all(&body).await.ok()?;
        Some(exchange(stream).await?.0)
    };
    tokio::time::timeout(ANSWER_WAIT, attempt)
        .await
        .ok()
        .flatten()
        .unwrap_or(0)
}

const ANSWER_WAIT: Duration = Duration::from_secs(30);

/// Health checks every 100 ms and the server's largest resident size, until stopped.
struct Watch {
    stop: Arc<AtomicBool>,
    health: tokio::task::JoinHandle<(Vec<Duration>, Statuses)>,
    memory: tokio::task::JoinHandle<f64>,
}

impl Watch {
    fn start(port: u16, pid: u32) -> Watch {
        let stop = Arc::new(AtomicBool::new(false));
        let until = stop.clone();
        let health = tokio::spawn(async move {
            let (mut times, mut statuses) = (Vec::new(), Statuses::new());
            while !until.load(Ordering::Relaxed) {
                let sent = Instant::now();
                let head = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
                let status = send(port, head.to_owned(), Vec::new()).await;
                times.push(sent.elapsed());
                *statuses.entry(status).or_default() += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            (times, statuses)
        });
        let until = stop.clone();
        let memory = tokio::spawn(async move {
            let mut peak: f64 = 0.0;
            while !until.load(Ordering::Relaxed) {
                peak = peak.max(rss_mib(pid).unwrap_or(0.0));
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            peak
        });
        Watch {
            stop,
            health,
            memory,
        }
    }

    async fn finish(self, title: &str, statuses: &Statuses, took: Duration) {
        self.stop.store(true, Ordering::Relaxed);
        let (mut times, health) = self.health.await.unwrap_or_default();
        let peak = self.memory.await.unwrap_or(f64::NAN);
        let ms = |d: Duration| d.as_secs_f64() * 1_000.0;
        times.sort();
        let p50 = times.get(times.len() / 2).copied().unwrap_or_default();
        let max = times.last().copied().unwrap_or_default();
        println!("  {title} ({:.1} s)", took.as_secs_f64());
        if !statuses.is_empty() {
            println!("    answers     {}", spell(statuses));
        }
        println!(
            "    /healthz    {}; p50 {:.1} ms, max {:.1} ms",
            spell(&health),
            ms(p50),
            ms(max)
        );
        println!("    server RSS  peak {peak:.0} MiB during the burst");
    }
}

fn spell(statuses: &Statuses) -> String {
    statuses
        .iter()
        .map(|(status, count)| match status {
            0 => format!("{count} × no answer"),
            status => format!("{count} × {status}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Resident memory now, in MiB.
fn rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

async fn burst(requests: Vec<(String, Vec<u8>)>, port: u16) -> Statuses {
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|(head, body)| tokio::spawn(send(port, head, body)))
        .collect();
    let mut statuses = Statuses::new();
    for task in tasks {
        *statuses.entry(task.await.unwrap_or(0)).or_default() += 1;
    }
    statuses
}

/// Runs the four bursts against a fresh server with `tasks` demo tasks.
pub async fn run(tasks: u64) -> anyhow::Result<()> {
    let (mut server, port, dir) = demo_server(tasks).await?;
    let pid = server.id();
    let key = finishline(&dir)
        .args(["api-key", "--name", "abuse bench"])
        .stderr(std::process::Stdio::null())
        .output()
        .context("creating an API key")?;
    let key = String::from_utf8_lossy(&key.stdout).trim().to_owned();
    println!(
        "Hostile loads against a server with the demo dataset ({tasks} tasks) and default limits:"
    );
    println!(
        "  server RSS before: {:.0} MiB",
        rss_mib(pid).unwrap_or(f64::NAN)
    );

    // 600 connections that never send a byte and 200 that send headers one byte a second:
    // more than the connection cap, held 12 s, past the header timeout.
    let watch = Watch::start(port, pid);
    let started = Instant::now();
    let mut silent = Vec::new();
    for _ in 0..600 {
        if let Ok(stream) = TcpStream::connect(("127.0.0.1", port)).await {
            silent.push(stream);
        }
    }
    let slow: Vec<_> = (0..200)
        .map(|_| {
            tokio::spawn(async move {
                let mut stream = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
                for byte in b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    .iter()
                    .take(12)
                {
                    if stream.write_all(&[*byte]).await.is_err() {
                        return Some(stream);
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Some(stream)
            })
        })
        .collect();
    let mut streams = silent;
    for task in slow {
        streams.extend(task.await.ok().flatten());
    }
    let mut closed = [0usize; 2];
    for (i, stream) in streams.iter_mut().enumerate() {
        let mut buf = [0u8; 64];
        let read = tokio::time::timeout(Duration::from_millis(5), stream.read(&mut buf)).await;
        if let Ok(Ok(0) | Err(_)) = read {
            closed[usize::from(i >= 600)] += 1;
        }
    }
    drop(streams);
    println!(
        "  800 slow clients: {} of 600 silent and {} of 200 byte-a-second connections closed by the server within 12 s",
        closed[0], closed[1]
    );
    let statuses = Statuses::new();
    watch
        .finish("slow clients", &statuses, started.elapsed())
        .await;

    // 150 concurrent two-year reads of the figures by day, with detail, from one key.
    let watch = Watch::start(port, pid);
    let started = Instant::now();
    let head = format!(
        "GET /api/v1/figures?days=731&group_by=day&detail=true HTTP/1.1\r\nHost: 127.0.0.1\r\n\
         Authorization: Bearer {key}\r\nConnection: close\r\n\r\n"
    );
    let statuses = burst(vec![(head, Vec::new()); 150], port).await;
    watch
        .finish(
            "150 concurrent heavy reads, one key",
            &statuses,
            started.elapsed(),
        )
        .await;

    // 30 concurrent wrong passwords on one demo account, then on 30 accounts (unknown ones,
    // which cost a password check all the same); all from loopback, so from one address.
    for (title, accounts) in [
        ("30 concurrent wrong passwords, one account", 1),
        ("30 concurrent wrong passwords, 30 accounts", 30),
    ] {
        let watch = Watch::start(port, pid);
        let started = Instant::now();
        let requests = (0..30)
            .map(|i| {
                let email = if accounts == 1 {
                    "finance%40demo.finishline.test".to_owned()
                } else {
                    format!("user{i}%40demo.finishline.test")
                };
                let body = format!("email={email}&password=wrong-password-{i}&next=");
                let head = format!(
                    "POST /rpc/sign_in HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: http://127.0.0.1:{port}\r\n\
                     Content-Type: application/x-www-form-urlencoded\r\nAccept: text/html\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                (head, body.into_bytes())
            })
            .collect();
        let statuses = burst(requests, port).await;
        watch.finish(title, &statuses, started.elapsed()).await;
    }
    // 60 concurrent OTLP/JSON bodies of about 62 KiB gzip that inflate to 60 MiB each.
    let inflated = vec![b' '; 60 * 1024 * 1024];
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(&inflated)?;
    let gzip = encoder.finish()?;
    drop(inflated);
    let watch = Watch::start(port, pid);
    let started = Instant::now();
    let head = format!(
        "POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        gzip.len()
    );
    let statuses = burst(vec![(head, gzip.clone()); 60], port).await;
    watch
        .finish(
            &format!(
                "60 concurrent gzip bodies of {} KiB inflating to 60 MiB, /v1/traces",
                gzip.len() / 1024
            ),
            &statuses,
            started.elapsed(),
        )
        .await;

    println!(
        "  server peak memory over the whole run (VmHWM) {:.0} MiB",
        peak_rss_mib(pid).unwrap_or(f64::NAN)
    );
    let _ = server.kill();
    let _ = server.wait();
    std::fs::remove_dir_all(dir).ok();
    Ok(())
}
