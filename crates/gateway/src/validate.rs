//! `naftiko-gateway validate`: every problem of every file, at once.

use std::io::Write;
use std::process::ExitCode;

use naftiko_spec::{LoadOptions, Severity};

use crate::{Format, ValidateArgs, files};

pub(crate) fn run(args: &ValidateArgs) -> ExitCode {
    let paths = match files::expand(&args.paths) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if paths.is_empty() {
        eprintln!("error: no *.yml or *.yaml files found");
        return ExitCode::from(2);
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let (mut files_with_errors, mut io_failed, mut total_e, mut total_w) = (0, false, 0, 0);
    for path in &paths {
        let name = path.display().to_string();
        let source = match std::fs::read_to_string(path) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {name}: {e}");
                io_failed = true;
                continue;
            }
        };
        let loaded = files::load(
            path,
            &source,
            LoadOptions {
                strict: args.strict,
            },
        );
        let (e, w) = loaded.diagnostics.counts();
        total_e += e;
        total_w += w;
        if e > 0 {
            files_with_errors += 1;
        }
        for d in loaded.diagnostics.iter() {
            if args.quiet && d.severity == Severity::Warning {
                continue;
            }
            let line = match args.format {
                Format::Human => format!("{}\n", d.render(&name, &source)),
                Format::Json => format!("{}\n", d.to_json(&name)),
            };
            if out.write_all(line.as_bytes()).is_err() {
                return ExitCode::from(2);
            }
        }
    }
    if args.format == Format::Human {
        let _ = writeln!(
            out,
            "checked {} file(s): {total_e} error(s), {total_w} warning(s); {files_with_errors} file(s) with errors",
            paths.len()
        );
    }
    if io_failed {
        ExitCode::from(2)
    } else if files_with_errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
