use clap::Parser;

fn main() {
    let cli = match keel::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 64 } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    match keel::cli::run(cli) {
        Ok(code) => std::process::exit(keel::cli::stdout::exit_code(code)),
        Err(err) => {
            eprintln!("keel: {err:#}");
            std::process::exit(keel::cli::exit_code(&err));
        }
    }
}
