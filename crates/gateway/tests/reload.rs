//! Hot reload over real files, real sockets and the real binary.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use common::{
    Running, capability, free_port, get_status, status_json, tempdir, wait_until, write_atomic,
};
use naftiko_testkit::RecordingUpstream;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_are_served_broken_files_keep_the_last_good_version() {
    let up = RecordingUpstream::start().await;
    let dir = tempdir();
    let port = free_port();
    let file = dir.join("a.yml");
    write_atomic(&file, &capability("a", &up.base_url(), port, &["one"]));
    let gw = Running::start(&[dir.as_path()], &[]).await;
    let url = |op: &str| format!("http://127.0.0.1:{port}/v1/{op}");
    assert_eq!(get_status(&url("one")).await, Some(200));
    assert_eq!(get_status(&url("two")).await, Some(404));

    // (a) add an operation: served within a second.
    write_atomic(
        &file,
        &capability("a", &up.base_url(), port, &["one", "two"]),
    );
    assert!(
        wait_until(Duration::from_secs(1), || async {
            get_status(&url("two")).await == Some(200)
        })
        .await,
        "new operation not served within 1 s"
    );

    // (b) a broken save: old routes keep answering, the diagnostic is reported.
    write_atomic(&file, "naftiko: 1.0.0-alpha2\ncapability: [\n");
    let admin = gw.admin;
    assert!(
        wait_until(Duration::from_secs(2), || async {
            status_json(admin)
                .await
                .is_some_and(|s| s["files"][0]["status"] == "rejected_serving_last_good")
        })
        .await
    );
    let s = status_json(admin).await.unwrap();
    assert!(
        s["files"][0]["diagnostics"][0]
            .as_str()
            .unwrap()
            .contains("a.yml:2:"),
        "{s}"
    );
    assert_eq!(get_status(&url("two")).await, Some(200));

    // (c) fix it: the new version is served.
    write_atomic(&file, &capability("a", &up.base_url(), port, &["three"]));
    assert!(
        wait_until(Duration::from_secs(1), || async {
            get_status(&url("three")).await == Some(200)
        })
        .await
    );
    assert_eq!(get_status(&url("two")).await, Some(404));

    // (d) a second file with its own port; deleting it closes the port.
    let port2 = free_port();
    let file2 = dir.join("b.yml");
    write_atomic(&file2, &capability("b", &up.base_url(), port2, &["bee"]));
    let url2 = format!("http://127.0.0.1:{port2}/v1/bee");
    assert!(
        wait_until(Duration::from_secs(1), || async {
            get_status(&url2).await == Some(200)
        })
        .await
    );
    std::fs::remove_file(&file2).unwrap();
    assert!(
        wait_until(Duration::from_secs(2), || async {
            get_status(&url2).await.is_none()
        })
        .await,
        "port of a deleted file still open"
    );
    assert_eq!(get_status(&url("three")).await, Some(200));
    drop(gw);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_colliding_file_is_rejected_naming_both_files() {
    let up = RecordingUpstream::start().await;
    let dir = tempdir();
    let port = free_port();
    write_atomic(
        &dir.join("a.yml"),
        &capability("a", &up.base_url(), port, &["one"]),
    );
    let gw = Running::start(&[dir.as_path()], &[]).await;
    write_atomic(
        &dir.join("b.yml"),
        &capability("b", &up.base_url(), port, &["one"]),
    );
    let admin = gw.admin;
    assert!(
        wait_until(Duration::from_secs(2), || async {
            status_json(admin)
                .await
                .is_some_and(|s| s["files"].as_array().is_some_and(|f| f.len() == 2))
        })
        .await
    );
    let s = status_json(admin).await.unwrap();
    let b = &s["files"][1];
    assert_eq!(b["status"], "never_loaded", "{s}");
    let msg = b["diagnostics"].to_string();
    assert!(msg.contains("b.yml") && msg.contains("a.yml"), "{msg}");
    assert_eq!(
        get_status(&format!("http://127.0.0.1:{port}/v1/one")).await,
        Some(200)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_reloads_under_load_fail_no_request_and_leak_nothing() {
    let up = RecordingUpstream::start().await;
    let dir = tempdir();
    let port = free_port();
    let file = dir.join("a.yml");
    write_atomic(&file, &capability("a", &up.base_url(), port, &["stable"]));
    let gw = Running::start(&[dir.as_path()], &[]).await;
    let fds_before = gw.open_fds();
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let load = {
        let (stop, ok, failed) = (stop.clone(), ok.clone(), failed.clone());
        let url = format!("http://127.0.0.1:{port}/v1/stable");
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                match get_status(&url).await {
                    Some(200) => ok.fetch_add(1, Ordering::Relaxed),
                    _ => failed.fetch_add(1, Ordering::Relaxed),
                };
            }
        })
    };
    let admin = gw.admin;
    for i in 0..200u64 {
        let ops: Vec<String> = vec!["stable".into(), format!("v{i}")];
        let ops: Vec<&str> = ops.iter().map(String::as_str).collect();
        write_atomic(&file, &capability("a", &up.base_url(), port, &ops));
        let want = format!("v{i}");
        let url = format!("http://127.0.0.1:{port}/v1/{want}");
        assert!(
            wait_until(Duration::from_secs(2), || async {
                get_status(&url).await == Some(200)
            })
            .await,
            "reload {i} not served"
        );
    }
    stop.store(true, Ordering::Relaxed);
    load.await.unwrap();
    let s = status_json(admin).await.unwrap();
    assert_eq!(s["listeners"].as_array().unwrap().len(), 1, "{s}");
    assert_eq!(
        failed.load(Ordering::Relaxed),
        0,
        "{} requests failed during reloads ({} ok)",
        failed.load(Ordering::Relaxed),
        ok.load(Ordering::Relaxed)
    );
    assert!(ok.load(Ordering::Relaxed) > 200);
    // Idle keep-alive connections come and go; the listener count must not grow with reloads.
    let fds_after = gw.open_fds();
    assert!(
        fds_after <= fds_before + 16,
        "fds grew from {fds_before} to {fds_after}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kubernetes_configmap_symlink_swap_reloads() {
    let up = RecordingUpstream::start().await;
    let dir = tempdir();
    let port = free_port();
    // ConfigMap layout: file -> ..data/file, ..data -> ..<timestamp>/
    let v1 = dir.join("..2026_11_24_v1");
    std::fs::create_dir(&v1).unwrap();
    std::fs::write(
        v1.join("cap.yml"),
        capability("a", &up.base_url(), port, &["one"]),
    )
    .unwrap();
    std::os::unix::fs::symlink("..2026_11_24_v1", dir.join("..data")).unwrap();
    std::os::unix::fs::symlink("..data/cap.yml", dir.join("cap.yml")).unwrap();
    let _gw = Running::start(&[dir.as_path()], &[]).await;
    assert_eq!(
        get_status(&format!("http://127.0.0.1:{port}/v1/one")).await,
        Some(200)
    );
    let v2 = dir.join("..2026_11_24_v2");
    std::fs::create_dir(&v2).unwrap();
    std::fs::write(
        v2.join("cap.yml"),
        capability("a", &up.base_url(), port, &["two"]),
    )
    .unwrap();
    std::os::unix::fs::symlink("..2026_11_24_v2", dir.join("..data_tmp")).unwrap();
    std::fs::rename(dir.join("..data_tmp"), dir.join("..data")).unwrap();
    let url = format!("http://127.0.0.1:{port}/v1/two");
    assert!(
        wait_until(Duration::from_secs(2), || async {
            get_status(&url).await == Some(200)
        })
        .await,
        "symlink swap not picked up"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_when_watching_is_off() {
    let up = RecordingUpstream::start().await;
    let dir = tempdir();
    let port = free_port();
    let file = dir.join("a.yml");
    write_atomic(&file, &capability("a", &up.base_url(), port, &["one"]));
    let gw = Running::start(&[dir.as_path()], &["--no-watch"]).await;
    write_atomic(&file, &capability("a", &up.base_url(), port, &["two"]));
    let url = format!("http://127.0.0.1:{port}/v1/two");
    tokio::time::sleep(Duration::from_millis(300)).await; // proving a negative: no reload without SIGHUP
    assert_eq!(get_status(&url).await, Some(404));
    gw.signal("HUP");
    assert!(
        wait_until(Duration::from_secs(2), || async {
            get_status(&url).await == Some(200)
        })
        .await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_in_flight_requests_then_exits_zero() {
    let up = RecordingUpstream::start().await;
    up.answer(
        "GET",
        "/slow",
        naftiko_testkit::Answer::json(200, serde_json::json!({"ok": true}))
            .with_delay(Duration::from_millis(800)),
    );
    let dir = tempdir();
    let port = free_port();
    write_atomic(
        &dir.join("a.yml"),
        &capability("a", &up.base_url(), port, &["slow"]),
    );
    let gw = Running::start(&[dir.as_path()], &[]).await; // drains for up to 1 s
    let url = format!("http://127.0.0.1:{port}/v1/slow");
    let in_flight = tokio::spawn(async move { get_status(&url).await });
    assert_eq!(
        up.wait_for_requests(1, Duration::from_secs(5)).await.len(),
        1
    );
    gw.signal("TERM");
    assert_eq!(
        in_flight.await.unwrap(),
        Some(200),
        "the in-flight request was cut"
    );
    let code = tokio::task::spawn_blocking(move || gw.wait(Duration::from_secs(10)))
        .await
        .unwrap();
    assert_eq!(code, Some(0));
}
