//! `wechatpay`: WeChat Pay APIv3 from a shell, and the sandbox as a program. See `--help`.

mod args;
mod bill;
mod call;
mod certificates;
mod config;
mod failure;
mod sandbox;
mod verify;

use std::process::ExitCode;

use clap::Parser as _;

use args::{AnswerCommand, BillCommand, CertificatesCommand, Cli, Command, NotifyCommand};
use config::Settings;
use failure::Failure;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the runtime: {error}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {failure}");
            ExitCode::from(failure.status)
        }
    }
}

async fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Sandbox(args) => sandbox::run(args).await,
        Command::Certificates(CertificatesCommand::Download { merchant, out }) => {
            certificates::download(Settings::resolve(merchant)?, &out).await
        }
        Command::Call(args) => {
            let settings = Settings::resolve(args.merchant)?;
            call::run(settings, &args.method, &args.path, args.json, args.json_file, args.dry_run).await
        }
        Command::Bill(BillCommand::Download { merchant, date, kind, gzip, out }) => {
            bill::download(Settings::resolve(merchant)?, &date, kind, gzip, &out).await
        }
        Command::Notify(NotifyCommand::Verify(args)) => {
            verify::run(Settings::resolve(args.merchant)?, &args.headers, &args.body, true)
        }
        Command::Answer(AnswerCommand::Verify(args)) => {
            verify::run(Settings::resolve(args.merchant)?, &args.headers, &args.body, false)
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    #[test]
    fn clap_accepts_the_definition() {
        super::Cli::command().debug_assert();
    }
}
