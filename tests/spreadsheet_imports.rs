//! Values files as people have them — European CSV (`;` and decimal commas), UTF-16, trailing
//! empty columns, Old-Mac line ends, `.xlsx` workbooks — and keel in a pipe: `-` for standard
//! input and output, the format told by `--out`'s extension, `--quiet`.

mod common;

use common::*;

fn actual(k: &Keel, key: &str, period: &str) -> serde_json::Value {
    value_row(&k.show(key), period)["actual"].clone()
}

fn forecast(k: &Keel, key: &str, period: &str) -> serde_json::Value {
    value_row(&k.show(key), period)["forecast"].clone()
}

fn a_semicolon_file_with_decimal_commas_and_trailing_empty_columns_imports(engine: Engine) {
    let Some(k) = Keel::demo_on_engine(engine, "a_semicolon_file_wit") else { return };
    std::fs::write(k.path("eu.csv"), format!("key;period;actual;forecast;;\r\nM-1;{WEEK};1.234,56;;;\r\nM-5;{WEEK};-12,5;7.000;;\r\n"))
        .unwrap();
    k.run(&["import", "eu.csv"]).ok().stdout_has(&["eu.csv: 2 rows"]);
    assert_eq!(actual(&k, "M-1", WEEK), "1234.56");
    assert_eq!(actual(&k, "M-5", WEEK), "-12.5");
    assert_eq!(forecast(&k, "M-5", WEEK), "7000");
}

fn refusals_name_the_separator_and_decimal_commas_need_semicolons(engine: Engine) {
    let Some(k) = Keel::demo_on_engine(engine, "refusals_name_the_se") else { return };
    std::fs::write(k.path("us.csv"), format!("key,period,actual\nM-1,{WEEK},\"12,5\"\n")).unwrap();
    k.run(&["import", "us.csv"]).code(65).stderr_has(&["us.csv:2: column actual: '12,5' is not a number", "separated by ','"]);
    std::fs::write(k.path("eu.csv"), format!("key;period;actual\nM-1;{WEEK};1.5\n")).unwrap();
    k.run(&["import", "eu.csv"]).code(65).stderr_has(&["eu.csv:2: column actual: '1.5'", "separated by ';'"]);
    // A header split by neither: the message says which separator keel read it with.
    std::fs::write(k.path("tabs.csv"), format!("key\tperiod\tactual\nM-1\t{WEEK}\t1\n")).unwrap();
    k.run(&["import", "tabs.csv"]).code(65).stderr_has(&["separated by ','"]);
}

fn utf16_files_with_a_bom_import_and_old_mac_line_ends_count_lines(engine: Engine) {
    let Some(k) = Keel::demo_on_engine(engine, "utf16_files_with_a_b") else { return };
    let text = format!("key;period;actual\r\nM-1;{WEEK};42,5\r\n");
    let le: Vec<u8> = [0xFF, 0xFE].into_iter().chain(text.encode_utf16().flat_map(|u| u.to_le_bytes())).collect();
    std::fs::write(k.path("le.csv"), le).unwrap();
    k.run(&["import", "le.csv"]).ok();
    assert_eq!(actual(&k, "M-1", WEEK), "42.5");
    let be: Vec<u8> = [0xFE, 0xFF].into_iter().chain(text.replace("42,5", "43").encode_utf16().flat_map(|u| u.to_be_bytes())).collect();
    std::fs::write(k.path("be.csv"), be).unwrap();
    k.run(&["import", "be.csv"]).ok();
    assert_eq!(actual(&k, "M-1", WEEK), "43");
    // Lines ended by CR alone: the bad row is on line 3, as an old Mac editor shows it.
    std::fs::write(k.path("mac.csv"), format!("key,period,actual\rM-1,{WEEK},1\rM-5,{WEEK},x\r")).unwrap();
    k.run(&["import", "mac.csv"]).code(65).stderr_has(&["mac.csv:3: column actual: 'x'"]);
}

fn workbook(rows: &[&[Cell]]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            match cell {
                Cell::T(s) => sheet.write_string(r as u32, c as u16, *s).map(|_| ()),
                Cell::N(x) => sheet.write_number(r as u32, c as u16, *x).map(|_| ()),
            }
            .unwrap();
        }
    }
    book.save_to_buffer().unwrap()
}

enum Cell {
    T(&'static str),
    N(f64),
}

#[test]
fn a_workbook_imports_with_numbers_as_their_shortest_decimals() {
    use Cell::{N, T};
    let k = Keel::demo();
    let good = workbook(&[
        &[T("key"), T("period"), T("actual"), T("forecast")],
        &[T("M-1"), T(WEEK), N(0.1), T("1200.50")],
        &[T("M-5"), T(WEEK), N(-3.0), N(123456789012345.0)],
    ]);
    std::fs::write(k.path("values.xlsx"), good).unwrap();
    k.run(&["import", "values.xlsx"]).ok().stdout_has(&["values.xlsx: 2 rows"]);
    assert_eq!(actual(&k, "M-1", WEEK), "0.1", "the double 0.1 is the decimal 0.1");
    assert_eq!(forecast(&k, "M-1", WEEK), "1200.50", "a text cell is read exactly");
    assert_eq!(actual(&k, "M-5", WEEK), "-3");
    assert_eq!(forecast(&k, "M-5", WEEK), "123456789012345");
    // 0.1 + 0.2 is 0.30000000000000004 as a double: 17 digits, refused at its cell.
    let bad = workbook(&[&[T("key"), T("period"), T("actual")], &[T("M-1"), T(WEEK), N(0.1 + 0.2)]]);
    std::fs::write(k.path("bad.xlsx"), bad).unwrap();
    k.run(&["import", "bad.xlsx"]).code(65).stderr_has(&["bad.xlsx:2: column actual (cell C2)", "17 significant digits"]);
    assert_eq!(actual(&k, "M-1", WEEK), "0.1", "nothing changed");
}

fn with_stdin(k: &Keel, args: &[&str], input: &[u8]) -> Run {
    let out = k.cmd(None).args(args).write_stdin(input.to_vec()).output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        args: args.iter().map(|s| s.to_string()).collect(),
    }
}

#[test]
fn a_dash_reads_standard_input_as_csv_or_json_by_its_first_byte() {
    let k = Keel::demo();
    let r = with_stdin(&k, &["import", "-"], format!("key,period,actual\nM-1,{WEEK},77\n").as_bytes());
    r.ok().stdout_has(&["standard input: 1 rows"]);
    assert_eq!(actual(&k, "M-1", WEEK), "77");
    // --format overrides the guess: this CSV is not JSON.
    with_stdin(&k, &["import", "-", "--format", "json"], b"key,period,actual\n").code(65);
    // A plan on standard input goes into a new file.
    let plan = k.export();
    let fresh = Keel::init();
    with_stdin(&fresh, &["import", "-", "--quiet"], format!("\n  {plan}").as_bytes()).ok();
    assert_eq!(fresh.show("M-1")["title"], k.show("M-1")["title"]);
}

fn out_dash_is_standard_output_and_the_extension_picks_the_format(engine: Engine) {
    let Some(k) = Keel::demo_on_engine(engine, "out_dash_is_standard") else { return };
    let r = k.run(&["export", "--format", "csv", "--what", "values", "--out", "-"]);
    r.ok();
    assert!(r.stdout.starts_with("key,period,planned"), "{}", &r.stdout[..80.min(r.stdout.len())]);
    assert!(!k.path("-").exists(), "no file named '-'");
    k.run(&["export", "--what", "items", "--out", "items.csv"]).ok();
    assert!(std::fs::read_to_string(k.path("items.csv")).unwrap().starts_with("key,kind,title"), "CSV, not JSON");
    k.run(&["report", "--out", "r.xlsx"]).ok();
    assert!(std::fs::read(k.path("r.xlsx")).unwrap().starts_with(b"PK\x03\x04"), "a workbook, not Markdown");
    k.run(&["report", "--out", "r.html"]).ok();
    assert!(std::fs::read_to_string(k.path("r.html")).unwrap().to_ascii_lowercase().contains("<!doctype html"));
    // A --format that contradicts the name is refused, and nothing is written.
    let r = k.run(&["report", "--format", "md", "--out", "r2.xlsx"]);
    r.code(65).stderr_has(&["--format md", "the file name says xlsx"]);
    assert!(!k.path("r2.xlsx").exists());
    k.run(&["export", "--format", "json", "--out", "x.csv"]).code(65).stderr_has(&["the file name says csv"]);
    assert!(!k.path("x.csv").exists());
}

#[test]
fn quiet_imports_and_generators_print_nothing() {
    let k = Keel::demo();
    std::fs::write(k.path("v.csv"), format!("key,period,actual\nM-1,{WEEK},5\n")).unwrap();
    let r = k.run(&["import", "v.csv", "--quiet"]);
    r.ok();
    assert_eq!((r.stdout.as_str(), r.stderr.as_str()), ("", ""));
    assert_eq!(actual(&k, "M-1", WEEK), "5", "quiet, but done");
    let plan = k.export();
    let fresh = Keel::init();
    std::fs::write(fresh.path("plan.json"), plan).unwrap();
    let r = fresh.run(&["import", "plan.json", "-q"]);
    r.ok();
    assert_eq!(r.stdout, "", "no effects listed");
    let g = Keel::blank(None);
    let r = g.run(&["generate", "--measures", "50", "--quiet"]);
    r.ok();
    assert_eq!((r.stdout.as_str(), r.stderr.as_str()), ("", ""));
    g.run(&["show", "M-50"]).ok();
}

crate::on_both_engines!(
    a_semicolon_file_with_decimal_commas_and_trailing_empty_columns_imports
    refusals_name_the_separator_and_decimal_commas_need_semicolons
    utf16_files_with_a_bom_import_and_old_mac_line_ends_count_lines
    out_dash_is_standard_output_and_the_extension_picks_the_format
);
