//! The PostgreSQL server the tests run against (`.ci/with-postgres` starts a throwaway one) is
//! reached through keel's own reading of its URL: the socket folder, user and database as libpq
//! would take them. CI must have the server; elsewhere the test says it was skipped.

mod common;

use keel::location::{Location, PasswordSources};
use keel::store::os_login;

fn server_url() -> Option<String> {
    match std::env::var("KEEL_TEST_PG_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => {
            panic!("CI runs the tests against a PostgreSQL server: run them through .ci/with-postgres")
        }
        _ => {
            eprintln!("skipped: no KEEL_TEST_PG_URL (run `.ci/with-postgres cargo test` to include the server)");
            None
        }
    }
}

#[test]
fn the_test_server_is_reached_through_keels_reading_of_its_url() {
    let Some(url) = server_url() else { return };
    let server = match Location::parse(&url, &os_login(), &PasswordSources::default()).expect("a URL keel reads") {
        Location::Server(s) => s,
        Location::File(p) => panic!("{url} was read as the file {}", p.display()),
    };
    let mut client = server.config.connect(postgres::NoTls).unwrap_or_else(|e| panic!("{}: {e}", server.shown));
    let row = client.query_one("SELECT session_user::text, current_setting('application_name')", &[]).unwrap();
    assert_eq!(row.get::<_, String>(0).as_str(), server.config.get_user().unwrap(), "the server saw the URL's user");
    assert_eq!(row.get::<_, String>(1), "keel", "keel names itself to the server");
}

#[test]
fn a_server_url_as_db_is_read_as_a_url_never_as_a_path() {
    let home = tempfile::tempdir().unwrap();
    // A password in the URL is refused before anything else, and never printed back.
    let r = common::run(common::keel(home.path()), &["--db", "postgresql://bob:s3cret@db.example.org/okr", "check"]);
    r.code(64).stderr_has(&["~/.pgpass", "PGPASSWORD"]);
    assert!(!r.stderr.contains("s3cret"), "{}", r.stderr);
    // A sound URL is not taken for a file that does not exist: a server nobody answers on is
    // said to be unreachable (69).
    let r = common::run(common::keel(home.path()), &["--db", "postgresql://127.0.0.1:1/okr", "check"]);
    r.code(69).stderr_has(&["postgresql://127.0.0.1:1/okr", "cannot connect"]);
    assert!(!r.stderr.contains("no such file"), "{}", r.stderr);
    assert!(std::fs::read_dir(home.path()).unwrap().next().is_none(), "nothing was created");
}
