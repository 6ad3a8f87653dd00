//! Starting, watching and stopping the runtime under test.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Environment variables passed through to the runtime (everything else is cleared so
/// that a case's `env` is the whole story).
const PASS_ENV: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "TMPDIR",
    "TMP",
    "TEMP",
    "LANG",
    "LC_ALL",
    "TZ",
    "RUST_LOG",
    "RUST_BACKTRACE",
    "JAVA_HOME",
    "JAVA_OPTS",
    "JAVA_TOOL_OPTIONS",
    "LD_LIBRARY_PATH",
    "DYLD_LIBRARY_PATH",
    "SYSTEMROOT",
    "SystemRoot",
    "WINDIR",
    "COMSPEC",
    "PATHEXT",
];

/// Largest amount of output kept per stream.
const MAX_LOG: usize = 4 * 1024 * 1024;

/// Splits a command line into words: whitespace separates, `'…'` and `"…"` quote,
/// `\` escapes outside single quotes.
pub(crate) fn split_command(s: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => cur.push(c),
                        None => return Err("unterminated ' in the runtime command".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c) => cur.push(c),
                            None => return Err("trailing \\ in the runtime command".into()),
                        },
                        Some(c) => cur.push(c),
                        None => return Err("unterminated \" in the runtime command".into()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(c) => cur.push(c),
                    None => return Err("trailing \\ in the runtime command".into()),
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    if words.is_empty() {
        return Err("the runtime command is empty".into());
    }
    Ok(words)
}

/// Fills `{self}`, `{capability}` and `{dir}` in each word; appends the capability path
/// when the template does not mention it.
pub(crate) fn expand_command(
    words: &[String],
    self_exe: &str,
    capability: &Path,
    dir: &Path,
) -> Vec<String> {
    let cap = capability.display().to_string();
    let mut out: Vec<String> = words
        .iter()
        .map(|w| {
            w.replace("{self}", self_exe)
                .replace("{capability}", &cap)
                .replace("{dir}", &dir.display().to_string())
        })
        .collect();
    if !words.iter().any(|w| w.contains("{capability}")) {
        out.push(cap);
    }
    out
}

type Log = Arc<Mutex<Vec<u8>>>;

/// A started runtime process.
pub(crate) struct Runtime {
    child: Child,
    pid: Option<u32>,
    stdout: Log,
    stderr: Log,
    stdin: Option<ChildStdin>,
    lines: Option<mpsc::UnboundedReceiver<String>>,
    exited: Option<ExitStatus>,
    /// The tasks copying stdout and stderr; they end when the pipes close.
    pumps: Vec<tokio::task::JoinHandle<()>>,
}

/// How waiting for readiness ended.
pub(crate) enum Readiness {
    /// Every port accepts connections.
    Ready,
    /// The process exited first.
    Exited(ExitStatus),
    /// Neither within the deadline.
    TimedOut,
}

impl Runtime {
    /// Starts `argv` in `dir` with a cleared environment plus `env`.
    pub(crate) fn spawn(
        argv: &[String],
        dir: &Path,
        env: &BTreeMap<String, String>,
        pass_env: &[String],
        stdio_mode: bool,
    ) -> Result<Self, String> {
        let Some((program, args)) = argv.split_first() else {
            return Err("the runtime command is empty".into());
        };
        let mut cmd = Command::new(program);
        cmd.args(args)
            .current_dir(dir)
            .env_clear()
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(if stdio_mode {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .kill_on_drop(true);
        for name in PASS_ENV
            .iter()
            .copied()
            .chain(pass_env.iter().map(String::as_str))
        {
            if let Some(v) = std::env::var_os(name) {
                cmd.env(name, v);
            }
        }
        cmd.envs(env);
        #[cfg(unix)]
        cmd.process_group(0);
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start runtime `{program}`: {e}"))?;
        let stdout = Log::default();
        let stderr = Log::default();
        let (tx, rx) = mpsc::unbounded_channel();
        let mut pumps = Vec::new();
        if let Some(out) = child.stdout.take() {
            pumps.push(tokio::spawn(pump(
                out,
                stdout.clone(),
                stdio_mode.then_some(tx),
            )));
        }
        if let Some(err) = child.stderr.take() {
            pumps.push(tokio::spawn(pump(err, stderr.clone(), None)));
        }
        Ok(Self {
            pid: child.id(),
            stdin: child.stdin.take(),
            child,
            stdout,
            stderr,
            lines: stdio_mode.then_some(rx),
            exited: None,
            pumps,
        })
    }

    /// Has the process exited? (Remembers the status.)
    pub(crate) fn try_exited(&mut self) -> Option<ExitStatus> {
        if self.exited.is_none() {
            self.exited = self.child.try_wait().ok().flatten();
        }
        self.exited
    }

    /// Waits until every address (`any`: one address) accepts TCP connections, the process
    /// exits, or `timeout`.
    pub(crate) async fn wait_ready(
        &mut self,
        addrs: &[String],
        timeout: Duration,
        any: bool,
    ) -> Readiness {
        let deadline = Instant::now() + timeout;
        let mut pending: Vec<String> = addrs.to_vec();
        loop {
            if let Some(status) = self.try_exited() {
                return Readiness::Exited(status);
            }
            let before = pending.len();
            let mut still = Vec::new();
            for a in pending {
                let ok = matches!(
                    tokio::time::timeout(
                        Duration::from_millis(500),
                        tokio::net::TcpStream::connect(a.as_str())
                    )
                    .await,
                    Ok(Ok(_))
                );
                if !ok {
                    still.push(a);
                }
            }
            if any && still.len() < before {
                return Readiness::Ready;
            }
            pending = still;
            if pending.is_empty() {
                return Readiness::Ready;
            }
            if Instant::now() >= deadline {
                return Readiness::TimedOut;
            }
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
    }

    /// Waits for the process to exit, up to `timeout`.
    pub(crate) async fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        if let Some(s) = self.try_exited() {
            return Some(s);
        }
        match tokio::time::timeout(timeout, self.child.wait()).await {
            Ok(Ok(s)) => {
                self.exited = Some(s);
                Some(s)
            }
            _ => None,
        }
    }

    /// Writes one line to stdin.
    pub(crate) async fn write_line(&mut self, line: &str) -> Result<(), String> {
        let Some(stdin) = self.stdin.as_mut() else {
            return Err("the runtime was not started with a stdio MCP adapter".into());
        };
        let mut data = line.as_bytes().to_vec();
        data.push(b'\n');
        stdin
            .write_all(&data)
            .await
            .map_err(|e| format!("writing to the runtime's stdin: {e}"))?;
        stdin
            .flush()
            .await
            .map_err(|e| format!("writing to the runtime's stdin: {e}"))
    }

    /// The next stdout line, waiting up to `timeout`.
    pub(crate) async fn next_line(&mut self, timeout: Duration) -> Option<String> {
        let rx = self.lines.as_mut()?;
        tokio::time::timeout(timeout, rx.recv())
            .await
            .ok()
            .flatten()
    }

    /// Kills the process (and its process group) and waits for it.
    pub(crate) async fn stop(&mut self) {
        if self.try_exited().is_none() {
            // The runtime runs in its own process group; end the whole group so that
            // wrappers (`sh -c`, launchers) do not leave a server behind.
            kill_group(self.pid);
            let _ = self.child.start_kill();
        }
        if let Ok(Ok(s)) = tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await {
            self.exited.get_or_insert(s);
        }
        // The pumps end once the pipes close: then everything the process wrote, to the
        // last line, is in the logs. Bounded, in case a grandchild still holds a pipe.
        for pump in self.pumps.drain(..) {
            let _ = tokio::time::timeout(Duration::from_secs(1), pump).await;
        }
    }

    /// Captured stderr then stdout, as text.
    pub(crate) fn logs(&self) -> String {
        let err = lock_text(&self.stderr);
        let out = lock_text(&self.stdout);
        match (err.is_empty(), out.is_empty()) {
            (_, true) => err,
            (true, false) => out,
            (false, false) => format!("{err}\n--- stdout ---\n{out}"),
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        if self.try_exited().is_none() {
            kill_group(self.pid);
        }
    }
}

/// Kills the process group `pid` leads (the runtime was started as a group leader).
fn kill_group(pid: Option<u32>) {
    #[cfg(unix)]
    if let Some(pid) = pid {
        let _ = std::process::Command::new("kill")
            .args(["-KILL", "--", &format!("-{pid}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    #[cfg(not(unix))]
    let _ = pid;
}

fn lock_text(log: &Log) -> String {
    strip_ansi(&String::from_utf8_lossy(
        &log.lock().unwrap_or_else(PoisonError::into_inner),
    ))
}

/// Removes terminal escape sequences (colours) so that patterns match plain text.
pub(crate) fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                // CSI: parameters and intermediates, then one final byte in @..~
                for d in chars.by_ref() {
                    if ('@'..='~').contains(&d) {
                        break;
                    }
                }
            } else {
                chars.next();
            }
        } else {
            out.push(c);
        }
    }
    out
}

async fn pump(
    stream: impl AsyncRead + Unpin,
    log: Log,
    lines: Option<mpsc::UnboundedSender<String>>,
) {
    let mut reader = BufReader::new(stream);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                {
                    let mut l = log.lock().unwrap_or_else(PoisonError::into_inner);
                    if l.len() < MAX_LOG {
                        l.extend_from_slice(&buf);
                    }
                }
                if let Some(tx) = &lines {
                    let line = String::from_utf8_lossy(&buf)
                        .trim_end_matches(['\r', '\n'])
                        .to_owned();
                    let _ = tx.send(line);
                }
            }
        }
    }
}

/// Picks a free loopback port (bound, then released) for the runtime to listen on.
///
/// Ports come from 20000–32767, below Linux's ephemeral range, so that the runner's own
/// outgoing connections (which use ephemeral ports) cannot take a port between the moment
/// it is picked and the moment the runtime binds it. Falls back to an ephemeral port.
pub(crate) fn free_port() -> std::io::Result<u16> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let seed = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| {
        d.subsec_nanos() ^ u32::try_from(d.as_secs() % 65_536).unwrap_or(0)
    }) ^ std::process::id().rotate_left(7);
    for _ in 0..64 {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        // A multiplicative hash spreads successive picks over the range.
        let offset = (seed.wrapping_add(n.wrapping_mul(2_654_435_761))) % 12_768;
        let port = u16::try_from(20_000 + offset).unwrap_or(20_000);
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_a_shell() {
        assert_eq!(
            split_command("java -jar 'my app.jar' \"{capability}\" a\\ b").unwrap(),
            vec!["java", "-jar", "my app.jar", "{capability}", "a b"]
        );
        assert!(split_command("  ").is_err());
        assert!(split_command("a 'b").is_err());
    }

    #[test]
    fn free_ports_are_distinct_and_below_the_ephemeral_range() {
        let a = free_port().unwrap();
        let b = free_port().unwrap();
        assert_ne!(a, b);
        assert!((20_000..32_768).contains(&a), "{a}");
    }

    #[test]
    fn strips_colours() {
        assert_eq!(
            strip_ansi("\u{1b}[2mtime\u{1b}[0m \u{1b}[31mERROR\u{1b}[0m x"),
            "time ERROR x"
        );
    }

    #[test]
    fn expands_placeholders() {
        let w = split_command("{self} serve {capability}").unwrap();
        let out = expand_command(&w, "/bin/gw", Path::new("/t/c.yml"), Path::new("/t"));
        assert_eq!(out, vec!["/bin/gw", "serve", "/t/c.yml"]);
        let w = split_command("run").unwrap();
        let out = expand_command(&w, "/bin/gw", Path::new("/t/c.yml"), Path::new("/t"));
        assert_eq!(out, vec!["run", "/t/c.yml"]);
    }
}
