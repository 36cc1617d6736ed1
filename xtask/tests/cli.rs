//! `cargo xtask` as a process: `--help` of the program and of each command, usage errors, and the
//! `cargo xtask-bench` alias.

use std::path::Path;
use std::process::{Command, Output};

use clap::CommandFactory;
use xtask::cli::Cli;

fn xtask<'a>(args: impl IntoIterator<Item = &'a str>) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask")).args(args).output().expect("xtask runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Each command and the arguments it keeps: the README, CI and maintainers' scripts use them.
const COMMANDS: &[(&str, &[&str])] = &[
    ("codegen", &["--specs", "--out", "--name", "--runtime", "--check", "--stats"]),
    ("import", &["DOCS", "--specs", "--check"]),
    ("ir", &["--specs"]),
    ("diff", &["OLD", "NEW", "--git", "--format", "--deny-breaking", "--show-descriptions"]),
    ("changelog", &["OLD", "NEW", "--git", "--write"]),
    ("semver", &[]),
    ("bench", &["--specs", "--runs", "--family", "--no-cargo"]),
];

#[test]
fn help_lists_every_command() {
    let out = xtask(["--help"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let help = text(&out.stdout);
    assert!(help.contains("Usage: cargo xtask <COMMAND>"), "{help}");
    for (command, _) in COMMANDS {
        assert!(
            help.lines().any(|line| line.trim_start().starts_with(&format!("{command} "))),
            "{command} missing:\n{help}"
        );
    }
}

#[test]
fn each_commands_help_names_each_of_its_arguments() {
    for (command, arguments) in COMMANDS {
        let out = xtask([*command, "--help"]);
        assert_eq!(out.status.code(), Some(0), "{command}: {}", text(&out.stderr));
        let help = text(&out.stdout);
        assert!(help.contains(&format!("Usage: cargo xtask {command}")), "{help}");
        for argument in *arguments {
            assert!(help.contains(argument), "`{command} --help` does not name {argument}:\n{help}");
        }
    }
}

#[test]
fn every_command_and_argument_has_a_help_text() {
    let cli = Cli::command();
    assert!(cli.get_about().is_some());
    for command in cli.get_subcommands() {
        assert!(command.get_about().is_some(), "{} has no help", command.get_name());
        for arg in command.get_arguments() {
            assert!(arg.get_help().is_some(), "{} {} has no help", command.get_name(), arg.get_id());
        }
    }
}

#[test]
fn unknown_flags_commands_and_no_command_exit_with_2() {
    for (command, _) in COMMANDS {
        let out = xtask([*command, "--no-such-flag"]);
        assert_eq!(out.status.code(), Some(2), "{command}");
        assert!(text(&out.stderr).contains("unexpected argument '--no-such-flag'"), "{}", text(&out.stderr));
    }
    let out = xtask(["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unrecognized subcommand 'frobnicate'"), "{}", text(&out.stderr));
    // Without a command, the help goes to stderr: nothing was done.
    let out = xtask([]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("Usage: cargo xtask <COMMAND>"), "{}", text(&out.stderr));
}

#[test]
fn the_bench_alias_runs_the_bench_command() {
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.cargo/config.toml");
    let config: toml::Table = std::fs::read_to_string(config).unwrap().parse().unwrap();
    let alias = config["alias"]["xtask-bench"].as_str().expect("the alias is a string");
    let (cargo, command) = alias.split_once(" -- ").expect("the alias passes arguments to xtask");
    assert!(cargo.contains("--release"), "bench figures need the release build: {alias}");
    let out = xtask(command.split_whitespace().chain(["--help"]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("--runs <N>"), "{}", text(&out.stdout));
}
