use clap::{CommandFactory, Parser};

fn main() {
    keel::cli::build_info::install_panic_hook();
    // A shell asking for completions (COMPLETE=bash keel -- keel show M-) is answered and exits.
    clap_complete::CompleteEnv::with_factory(keel::cli::Cli::command).complete();
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
