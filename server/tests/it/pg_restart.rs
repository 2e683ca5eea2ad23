//! PostgreSQL restarted under load: while it is down every batch is answered 503 with
//! `Retry-After`, nothing acknowledged is lost, a batch sent again is counted once, and the
//! running server takes batches again once PostgreSQL is back, without being restarted.
//! The test stops a cluster, so it runs one of its own rather than the suite's.

use crate::durability::{CALLS_PER_BATCH, batch};
use crate::helpers::{finishline, free_port, load_demo, new_api_key, serve};
use app::db::{Db, on_db};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// Clients sending batches at once.
const CLIENTS: usize = 4;
/// Longer than the pool's 5 s acquire timeout, so that requests waiting for a connection give
/// up while PostgreSQL is still down.
const DOWN_FOR: Duration = Duration::from_secs(6);

/// A throw-away PostgreSQL cluster on loopback (as `scripts/pg.sh` makes one), stopped when
/// dropped; its folder goes with it.
struct Cluster {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
}

impl Cluster {
    fn create() -> Cluster {
        let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .map(|dir| {
                dir.filter_map(|e| Some(e.ok()?.path().join("bin")))
                    .collect()
            })
            .unwrap_or_default();
        versions.retain(|bin| bin.join("pg_ctl").exists());
        versions.sort_by_key(|bin| {
            let version = bin.parent().and_then(|v| v.file_name());
            version.and_then(|v| v.to_str()?.parse::<u32>().ok())
        });
        let bin = versions.pop().expect(
            "PostgreSQL's binaries are not in /usr/lib/postgresql/<version>/bin: \
             scripts/test installs them (Debian's postgresql package)",
        );
        let dir = tempfile::tempdir().unwrap();
        if running_as_root() {
            let owned = Command::new("chown")
                .arg("postgres:")
                .arg(dir.path())
                .status();
            assert!(
                owned.is_ok_and(|s| s.success()),
                "the cluster's folder is given to postgres"
            );
        }
        let cluster = Cluster {
            bin,
            dir,
            port: free_port(),
        };
        let initdb = as_owner(&cluster.bin.join("initdb"))
            .arg("-D")
            .arg(cluster.data())
            .args(["-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"])
            .stdout(Stdio::null())
            .status();
        assert!(initdb.is_ok_and(|s| s.success()), "initdb makes a cluster");
        cluster.start();
        cluster
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn pg_ctl(&self, args: &[&str]) -> bool {
        as_owner(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.data())
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Starts the cluster on its data folder and waits until it takes connections. Without
    /// fsync, but with synchronous commits: a commit is answered once its WAL is written,
    /// which an immediate stop does not lose (only a crash of the machine would).
    fn start(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log");
        let log = log.to_str().unwrap();
        assert!(
            self.pg_ctl(&["-w", "-l", log, "-o", &options, "start"]),
            "PostgreSQL starts"
        );
    }

    /// Stops the cluster at once, as a crash or `kill -9` of its processes would: open
    /// connections break and nothing is flushed first.
    fn stop(&self) -> bool {
        self.pg_ctl(&["-w", "-m", "immediate", "stop"])
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
    }
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.trim_ascii() == b"0")
}

/// PostgreSQL refuses to run as root; it runs as the postgres system user then.
fn as_owner(program: &std::path::Path) -> Command {
    if running_as_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

/// Posts a batch over a fresh connection: the status and the `Retry-After` header, or `None`
/// if the connection broke or no answer came within 20 s.
async fn post_batch(port: u16, key: &str, body: &str) -> Option<(u16, Option<String>)> {
    let exchange = async {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
        let head = format!(
            "POST /api/v1/ingest HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(head.as_bytes()).await.ok()?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.ok()?;
        let answer = String::from_utf8_lossy(&answer).into_owned();
        let head = answer.split("\r\n\r\n").next()?;
        let status = head.split_whitespace().nth(1)?.parse().ok()?;
        let retry_after = head.lines().find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("retry-after")
                .then(|| value.trim().to_owned())
        });
        Some((status, retry_after))
    };
    tokio::time::timeout(Duration::from_secs(20), exchange)
        .await
        .ok()
        .flatten()
}

/// One batch sent and what came back.
struct Answer {
    batch: usize,
    sent: Instant,
    answered: Instant,
    reply: Option<(u16, Option<String>)>,
}

impl Answer {
    fn acknowledged(&self) -> bool {
        matches!(self.reply, Some((200, _)))
    }

    fn refused_with_retry_hint(&self) -> bool {
        matches!(&self.reply, Some((503, Some(after))) if after.parse::<u32>().is_ok_and(|s| s > 0))
    }
}

/// How many calls of each `batch(n)` are stored, by `n`.
async fn stored_calls(db: &Db) -> BTreeMap<usize, i64> {
    let ids: Vec<String> = on_db!(db, pool => sqlx::query_scalar(
        "SELECT external_id FROM calls WHERE external_id LIKE 'b%-c%'").fetch_all(pool).await)
    .unwrap();
    let mut stored = BTreeMap::new();
    for id in ids {
        let n = id
            .strip_prefix('b')
            .and_then(|rest| rest.split_once("-c"))
            .and_then(|(n, _)| n.parse().ok());
        if let Some(n) = n {
            *stored.entry(n).or_default() += 1;
        }
    }
    stored
}

#[tokio::test]
async fn postgres_restarted_under_load_answers_503_and_recovers_losing_nothing() {
    let pg = Cluster::create();
    let data = tempfile::tempdir().unwrap();
    let on_pg = || {
        let mut command = finishline(data.path());
        command.env("DATABASE_URL", pg.url());
        command
    };
    load_demo(on_pg(), 50);
    let key = new_api_key(on_pg(), "stream");
    let port = free_port();
    let mut server = serve(on_pg(), port).await;

    // Clients send batches one after another until told to stop, each under a new number.
    let answers = Arc::new(Mutex::new(Vec::<Answer>::new()));
    let (next, done) = (
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicBool::new(false)),
    );
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (answers, next, done, key) =
                (answers.clone(), next.clone(), done.clone(), key.clone());
            tokio::spawn(async move {
                while !done.load(Ordering::Relaxed) {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let sent = Instant::now();
                    let reply = post_batch(port, &key, &batch(n)).await;
                    let answered = Instant::now();
                    answers.lock().unwrap().push(Answer {
                        batch: n,
                        sent,
                        answered,
                        reply,
                    });
                }
            })
        })
        .collect();
    let acknowledged = |since: Instant| {
        answers
            .lock()
            .unwrap()
            .iter()
            .filter(|a| a.acknowledged() && a.sent >= since)
            .map(|a| a.answered)
            .min()
    };

    let began = Instant::now();
    while answers
        .lock()
        .unwrap()
        .iter()
        .filter(|a| a.acknowledged())
        .count()
        < 20
    {
        assert!(
            began.elapsed() < Duration::from_secs(10),
            "batches are acknowledged"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let stopping = Instant::now();
    assert!(pg.stop(), "PostgreSQL stops");
    let stopped = Instant::now();
    tokio::time::sleep(DOWN_FOR).await;
    let starting = Instant::now();
    pg.start();
    let started = Instant::now();
    // Recovered: a batch sent after PostgreSQL was back is acknowledged by the same process.
    let recovered = loop {
        if let Some(at) = acknowledged(started) {
            break at;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the server takes batches again within 10 s of PostgreSQL's return, without a restart"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    done.store(true, Ordering::Relaxed);
    for client in clients {
        client.await.unwrap();
    }
    assert!(
        server.try_wait().unwrap().is_none(),
        "the server process kept running throughout"
    );

    let answers = std::mem::take(&mut *answers.lock().unwrap());
    for a in &answers {
        assert!(
            a.acknowledged() || a.refused_with_retry_hint(),
            "batch {n}: every answer is 200, or 503 with a Retry-After; got {reply:?}",
            n = a.batch,
            reply = a.reply
        );
        if a.answered < stopping {
            assert!(
                a.acknowledged(),
                "batch {} before the stop is acknowledged",
                a.batch
            );
        }
        if a.sent >= stopped && a.answered < starting {
            assert!(
                !a.acknowledged(),
                "batch {} is not acknowledged while PostgreSQL is down",
                a.batch
            );
        }
        if a.sent >= recovered {
            assert!(
                a.acknowledged(),
                "batch {} after recovery is acknowledged",
                a.batch
            );
        }
    }
    let refused: Vec<usize> = answers
        .iter()
        .filter(|a| a.refused_with_retry_hint())
        .map(|a| a.batch)
        .collect();
    let refused_while_down = answers
        .iter()
        .filter(|a| a.refused_with_retry_hint() && a.answered > stopped && a.answered < starting)
        .count();
    assert!(
        refused_while_down > 0,
        "batches were refused while PostgreSQL was down"
    );

    let db = Db::connect(&pg.url()).await.unwrap();
    let stored = stored_calls(&db).await;
    for a in &answers {
        let calls = stored.get(&a.batch).copied().unwrap_or(0);
        if a.acknowledged() {
            assert_eq!(
                calls, CALLS_PER_BATCH as i64,
                "acknowledged batch {} is whole and counted once",
                a.batch
            );
        } else {
            assert!(
                calls == 0 || calls == CALLS_PER_BATCH as i64,
                "refused batch {} is whole or absent: {calls} calls",
                a.batch
            );
        }
    }
    let refused_but_stored = refused.iter().filter(|n| stored.contains_key(n)).count();

    // What was refused, sent again now, is stored, and once.
    for &n in &refused {
        let reply = post_batch(port, &key, &batch(n)).await;
        assert!(
            matches!(reply, Some((200, _))),
            "batch {n} sent again: {reply:?}"
        );
    }
    let stored = stored_calls(&db).await;
    for a in &answers {
        assert_eq!(
            stored.get(&a.batch).copied(),
            Some(CALLS_PER_BATCH as i64),
            "batch {} is stored once after the retries",
            a.batch
        );
    }
    db.close().await;
    server.kill().unwrap();
    server.wait().unwrap();
    eprintln!(
        "{} batches acknowledged, {} refused with 503 ({} answered while PostgreSQL was down, {} stored nonetheless), PostgreSQL down {:.1} s, first acknowledgement {:.2} s after it was back",
        answers.len() - refused.len(),
        refused.len(),
        refused_while_down,
        refused_but_stored,
        (started - stopping).as_secs_f64(),
        (recovered - started).as_secs_f64()
    );
}
