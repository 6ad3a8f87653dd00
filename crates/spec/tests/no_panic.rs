//! No input panics the loader: a deterministic mutation fuzzer over the seed, the vendored
//! corpus and the fixtures.
//!
//! Each round takes one input, applies 1–4 random line- or character-level mutations
//! (delete / duplicate / re-indent a line, swap or delete characters, insert YAML and
//! template punctuation, tabs and unicode, truncate) and runs `load` (the import reader
//! hands back the mutated text itself, so imports are fuzzed too). A panic is caught,
//! shrunk line by line, and reported with the smallest input that still panics.
//!
//! `NAFTIKO_FUZZ_ROUNDS` (default 3000) and `NAFTIKO_FUZZ_SEED` change the run.
#![allow(missing_docs)]
// clippy's allow-expect-in-tests covers `#[test]` fns, not the helpers here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use naftiko_spec::{LoadOptions, load};

/// Marsaglia's xorshift64: small, deterministic, good enough to pick mutations.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// Uniform-ish in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Fragments that tend to reach unusual paths: YAML indicators, templates, JSONPath,
/// tabs, multi-byte and odd unicode, numbers out of range.
const TOKENS: &[&str] = &[
    "{{",
    "}}",
    "{{ ",
    "{{env.",
    "$.[",
    "$..",
    "$[?(@.",
    "[*]",
    ": ",
    "- ",
    "-",
    ":",
    "\t",
    "  ",
    "'",
    "\"",
    "[",
    "]",
    "{",
    "}",
    ",",
    "#",
    "&a ",
    "*a",
    "!!str ",
    "!!binary ",
    "|",
    ">-",
    "---\n",
    "...\n",
    "? ",
    "%YAML 1.2\n",
    "é",
    "—",
    "🦀",
    "\u{0}",
    "\u{FEFF}",
    "\u{202E}",
    "\r",
    "\r\n",
    "\\",
    "~",
    "null",
    "true",
    "99999999999999999999",
    "-1",
    "1e400",
    "0x1F",
    ".nan",
    "<<: *a",
    "{x}",
    "/{",
    "}/",
    "rest.",
    "tools.",
    "pets.getpet",
    "${input.x}",
];

fn mutate(rng: &mut XorShift, text: &str) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    if lines.is_empty() {
        lines.push(String::new());
    }
    for _ in 0..=rng.below(4) {
        let i = rng.below(lines.len());
        match rng.below(10) {
            0 if lines.len() > 1 => {
                lines.remove(i);
            }
            1 => {
                let copy = lines[i].clone();
                let to = rng.below(lines.len() + 1);
                lines.insert(to, copy);
            }
            2 => {
                // Re-indent: add or strip up to 4 leading spaces.
                let n = rng.below(5);
                lines[i] = if rng.below(2) == 0 {
                    format!("{}{}", " ".repeat(n), lines[i])
                } else {
                    lines[i].chars().skip(n).collect()
                };
            }
            3 => {
                lines[i] = mutate_chars(rng, &lines[i], |rng, chars| {
                    let (a, b) = (rng.below(chars.len()), rng.below(chars.len()));
                    chars.swap(a, b);
                })
            }
            4 => {
                lines[i] = mutate_chars(rng, &lines[i], |rng, chars| {
                    chars.remove(rng.below(chars.len()));
                })
            }
            5..=7 => {
                let token = *rng.pick(TOKENS);
                let mut chars: Vec<char> = lines[i].chars().collect();
                let at = rng.below(chars.len() + 1);
                chars.splice(at..at, token.chars());
                lines[i] = chars.into_iter().collect();
            }
            8 => {
                // Replace the value after the first ": " with a token.
                if let Some((key, _)) = lines[i].split_once(": ") {
                    lines[i] = format!("{key}: {}", rng.pick(TOKENS));
                }
            }
            _ => {
                // Truncate the whole text at a random character.
                let joined = lines.join("\n");
                let keep = rng.below(joined.chars().count() + 1);
                return joined.chars().take(keep).collect();
            }
        }
    }
    lines.join("\n")
}

fn mutate_chars(
    rng: &mut XorShift,
    line: &str,
    f: impl FnOnce(&mut XorShift, &mut Vec<char>),
) -> String {
    let mut chars: Vec<char> = line.chars().collect();
    if !chars.is_empty() {
        f(rng, &mut chars);
    }
    chars.into_iter().collect()
}

/// Whether loading `source` (strict or not) panics.
fn panics(source: &str) -> bool {
    let run = |strict| {
        catch_unwind(AssertUnwindSafe(|| {
            let mut reader = |_: &str| Ok(source.to_owned());
            let loaded = load(source, LoadOptions { strict }, &mut reader);
            // Rendering every diagnostic must not panic either.
            for d in loaded.diagnostics.iter() {
                let _ = d.render("f.yml", source);
                let _ = d.to_json("f.yml");
            }
        }))
        .is_err()
    };
    run(false) || run(true)
}

/// Drops lines, then characters of what is left, as long as the input still panics.
fn shrink(source: &str) -> String {
    let mut lines: Vec<String> = source.lines().map(str::to_owned).collect();
    let mut i = 0;
    while i < lines.len() {
        let mut candidate = lines.clone();
        candidate.remove(i);
        if panics(&candidate.join("\n")) {
            lines = candidate
        } else {
            i += 1
        }
    }
    let mut chars: Vec<char> = lines.join("\n").chars().collect();
    let mut i = if chars.len() > 2000 { chars.len() } else { 0 };
    while i < chars.len() {
        let mut candidate = chars.clone();
        candidate.remove(i);
        if panics(&candidate.iter().collect::<String>()) {
            chars = candidate
        } else {
            i += 1
        }
    }
    chars.into_iter().collect()
}

fn inputs() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<PathBuf> = vec![
        root.join("../../capabilities/ory-identities.yml"),
        root.join("tests/fixtures/valid-minimal.yml"),
    ];
    for dir in [
        root.join("../../tests/corpus/public"),
        root.join("tests/fixtures/broken"),
    ] {
        let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("dir entry").path())
            .collect();
        found.sort();
        files.extend(found);
    }
    files
        .into_iter()
        .map(|p| {
            (
                p.file_name().expect("name").to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).expect("read input"),
            )
        })
        .collect()
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn mutated_inputs_never_panic_the_loader() {
    let rounds = env_u64("NAFTIKO_FUZZ_ROUNDS", 3000) as usize;
    let seed = env_u64("NAFTIKO_FUZZ_SEED", 0x9E37_79B9_7F4A_7C15).max(1);
    let inputs = inputs();
    // Quiet the default hook while probing; a panic is reported below with its input.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let started = Instant::now();
    let tried = AtomicUsize::new(0);
    let threads = 2;
    let found: Vec<(usize, String, String)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let (inputs, tried) = (&inputs, &tried);
                s.spawn(move || {
                    let mut found = Vec::new();
                    for round in (t..rounds).step_by(threads) {
                        // One generator per round: any round can be replayed on its own.
                        let mut rng =
                            XorShift(seed ^ (round as u64 + 1).wrapping_mul(0x2545_F491_4F6C_DD1D));
                        let (name, text) = &inputs[rng.below(inputs.len())];
                        let mutated = mutate(&mut rng, text);
                        tried.fetch_add(1, Ordering::Relaxed);
                        if panics(&mutated) {
                            found.push((round, name.clone(), mutated));
                        }
                    }
                    found
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("worker"))
            .collect()
    });
    let elapsed = started.elapsed();
    let shrunk: Vec<String> = found
        .iter()
        .take(3)
        .map(|(round, name, text)| {
            format!("round {round} (from {name}), shrunk to {:?}", shrink(text))
        })
        .collect();
    std::panic::set_hook(hook);
    println!(
        "no_panic: {} mutated inputs from {} files (seed {seed:#x}) in {:.1}s, {} panic(s)",
        tried.load(Ordering::Relaxed),
        inputs.len(),
        elapsed.as_secs_f64(),
        found.len()
    );
    assert!(
        found.is_empty(),
        "the loader panicked on {} input(s):\n{}",
        found.len(),
        shrunk.join("\n")
    );
}

#[test]
fn degenerate_inputs_never_panic_the_loader() {
    let cases = [
        "",
        " ",
        "\n",
        "\t",
        "~",
        "-",
        "---",
        "...",
        "- -",
        "[]",
        "{}",
        "{{",
        "}}",
        "'",
        "\"",
        ":",
        "? : ",
        "&a *a",
        "*a",
        "\u{FEFF}",
        "\u{0}",
        "é: é",
        "naftiko:",
        "capability:",
        "capability: 5",
        "capability: []",
        "consumes: {}",
        "capability:\n  exposes:\n  - ~\n",
        "capability:\n  consumes:\n  - import: x\n",
        "capability:\n  exposes:\n  - type: mcp\n    tools: [~, 1, {}]\n",
        "binds: [{keys: {'': ''}}]",
        "a: &x [*x]",
        "a: !!binary aGk=",
        "a: 1e400",
        "a: 99999999999999999999",
    ];
    for case in cases {
        assert!(!panics(case), "the loader panicked on {case:?}");
    }
}
