//! Measurements for the reload issue (not a timed test: it only prints figures).
//! Run: `cargo test --release -p naftiko-gateway --test reload_measure -- --ignored --nocapture`
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{Running, capability, free_port, get_status, wait_until, write_atomic};
use naftiko_testkit::RecordingUpstream;

fn rss_kib(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement, run explicitly"]
async fn measure_reload_latency_failures_and_rss() {
    let up = RecordingUpstream::start().await;
    let dir = std::env::temp_dir().join(format!("naftiko-measure-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let file = dir.join("a.yml");
    write_atomic(&file, &capability("a", &up.base_url(), port, &["stable"]));
    let gw = Running::start(&[dir.as_path()], &[]).await;
    let pid = gw.pid();
    // Latency: write → first 200 of the new route, 100 times.
    let mut lat = Vec::new();
    for i in 0..100 {
        let op = format!("l{i}");
        let url = format!("http://127.0.0.1:{port}/v1/{op}");
        let t = Instant::now();
        write_atomic(
            &file,
            &capability("a", &up.base_url(), port, &["stable", &op]),
        );
        assert!(
            wait_until(Duration::from_secs(3), || async {
                get_status(&url).await == Some(200)
            })
            .await
        );
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    lat.sort_by(f64::total_cmp);
    println!(
        "reload latency over 100 writes (includes the 50 ms debounce): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        lat[49], lat[98], lat[99]
    );

    let rss_before = rss_kib(pid);
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let mut loaders = Vec::new();
    for _ in 0..4 {
        let (stop, ok, failed) = (stop.clone(), ok.clone(), failed.clone());
        let url = format!("http://127.0.0.1:{port}/v1/stable");
        loaders.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                match get_status(&url).await {
                    Some(200) => ok.fetch_add(1, Ordering::Relaxed),
                    _ => failed.fetch_add(1, Ordering::Relaxed),
                };
            }
        }));
    }
    let t = Instant::now();
    for i in 0..1000 {
        let op = format!("r{i}");
        let url = format!("http://127.0.0.1:{port}/v1/{op}");
        write_atomic(
            &file,
            &capability("a", &up.base_url(), port, &["stable", &op]),
        );
        assert!(
            wait_until(Duration::from_secs(3), || async {
                get_status(&url).await == Some(200)
            })
            .await
        );
    }
    stop.store(true, Ordering::Relaxed);
    for l in loaders {
        l.await.unwrap();
    }
    let rss_after = rss_kib(pid);
    println!(
        "1000 reloads under load in {:.1} s: {} requests ok, {} failed; RSS {} KiB before, {} KiB after",
        t.elapsed().as_secs_f64(),
        ok.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed),
        rss_before,
        rss_after
    );
    assert_eq!(failed.load(Ordering::Relaxed), 0);
}
