//! Where a keel database lives: a file (SQLite, the default) or a PostgreSQL server named by a
//! `postgres://` or `postgresql://` URL, read as libpq reads one (host, port, dbname, user,
//! sslmode, sslrootcert; a host that is a folder is the server's Unix socket folder).
//!
//! A password never travels in the URL: it would sit in shell histories, `ps` listings and
//! crontabs that colleagues on the host can read. It comes from `PGPASSWORD` or the password
//! file (`PGPASSFILE`, else `~/.pgpass`), as libpq takes it, and that file must be private.

use postgres::config::{Host, SslMode as WireSslMode};
use std::path::{Path, PathBuf};

/// The socket folder libpq uses on Debian when a URL names no host.
pub const DEFAULT_SOCKET_FOLDER: &str = "/var/run/postgresql";
pub const DEFAULT_PORT: u16 = 5432;

#[derive(Debug)]
pub enum Location {
    File(PathBuf),
    Server(Box<ServerUrl>),
}

/// libpq's `sslmode`, all six: the driver knows only three, so keel keeps the one asked for and
/// decides verification itself (`require` encrypts without checking who answers, `verify-ca`
/// checks the chain, `verify-full` the chain and the host name).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(text: &str) -> Option<SslMode> {
        Some(match text {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => return None,
        })
    }
    /// What the driver is told: whether to try TLS, and whether to insist on it.
    fn wire(self) -> WireSslMode {
        match self {
            SslMode::Disable => WireSslMode::Disable,
            SslMode::Allow | SslMode::Prefer => WireSslMode::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => WireSslMode::Require,
        }
    }
}

/// The URL parameters the driver applies as libpq does (its parser's words for anything else
/// are vaguer than keel's, so unknown ones are refused here, by name).
const DRIVER_PARAMETERS: &[&str] = &[
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "options",
    "application_name",
    "connect_timeout",
    "keepalives",
    "keepalives_idle",
    "target_session_attrs",
    "channel_binding",
];

/// A server to connect to, with every default filled in and the password found.
#[derive(Debug)]
pub struct ServerUrl {
    pub config: postgres::Config,
    pub ssl: SslMode,
    pub root_cert: Option<PathBuf>,
    /// The URL as given (it never holds a password), for messages.
    pub shown: String,
}

/// A URL keel cannot use, said so that the person can fix it.
#[derive(Debug, thiserror::Error)]
#[error("{url}: {why}")]
pub struct LocationError {
    pub url: String,
    pub why: String,
}

/// Whether a `--db` value names a server rather than a file.
pub fn is_server_url(text: &str) -> bool {
    text.starts_with("postgres://") || text.starts_with("postgresql://")
}

/// Where the environment keel asks for passwords: `PGPASSWORD`, `PGPASSFILE` and the home folder.
/// Passed in, so the rules here are tested without touching the process's environment.
#[derive(Clone, Debug, Default)]
pub struct PasswordSources {
    pub password: Option<String>,
    pub passfile: Option<PathBuf>,
    pub home: Option<PathBuf>,
}

impl PasswordSources {
    pub fn from_env() -> PasswordSources {
        PasswordSources {
            password: std::env::var("PGPASSWORD").ok().filter(|p| !p.is_empty()),
            passfile: std::env::var_os("PGPASSFILE").map(PathBuf::from),
            home: directories::BaseDirs::new().map(|d| d.home_dir().to_path_buf()),
        }
    }
}

impl Location {
    /// Read a `--db` value: a URL names a server, anything else a file. `login` is the OS login,
    /// the user name libpq would default to.
    pub fn parse(text: &str, login: &str, passwords: &PasswordSources) -> Result<Location, LocationError> {
        if !is_server_url(text) {
            return Ok(Location::File(PathBuf::from(text)));
        }
        ServerUrl::parse(text, login, passwords).map(|s| Location::Server(Box::new(s)))
    }
}

impl ServerUrl {
    pub fn parse(text: &str, login: &str, passwords: &PasswordSources) -> Result<ServerUrl, LocationError> {
        let refuse = |why: String| LocationError { url: masked(text), why };
        // sslmode and sslrootcert are keel's to apply (the driver knows three modes and no
        // certificate files); everything else is the driver's libpq-compatible parser's.
        let (base, query) = text.split_once('?').unwrap_or((text, ""));
        let mut ssl = SslMode::Prefer;
        let mut root_cert = None;
        let mut rest = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "sslmode" => {
                    ssl = SslMode::parse(value).ok_or_else(|| {
                        refuse(format!("sslmode '{value}' is not one of disable, allow, prefer, require, verify-ca, verify-full"))
                    })?
                }
                "sslrootcert" => root_cert = Some(PathBuf::from(value)),
                "password" => return Err(refuse(password_hint())),
                known if DRIVER_PARAMETERS.contains(&known) => rest.push(pair),
                unknown => {
                    return Err(refuse(format!(
                        "no parameter '{unknown}' in a keel URL; it takes {}, sslmode and sslrootcert",
                        DRIVER_PARAMETERS.join(", ")
                    )))
                }
            }
        }
        let driver_url = if rest.is_empty() { base.to_string() } else { format!("{base}?{}", rest.join("&")) };
        let mut config: postgres::Config = driver_url.parse().map_err(|e| refuse(format!("not a PostgreSQL URL keel can read ({e})")))?;
        if config.get_password().is_some() {
            return Err(refuse(password_hint()));
        }
        if config.get_hosts().is_empty() && config.get_hostaddrs().is_empty() {
            config.host_path(DEFAULT_SOCKET_FOLDER);
        }
        if config.get_ports().is_empty() {
            config.port(DEFAULT_PORT);
        }
        if config.get_user().is_none() {
            config.user(login);
        }
        if config.get_dbname().is_none() {
            let user = config.get_user().unwrap_or(login).to_string();
            config.dbname(&user);
        }
        if matches!(ssl, SslMode::VerifyCa | SslMode::VerifyFull) && root_cert.is_none() {
            return Err(refuse(format!(
                "sslmode={} needs sslrootcert=PATH, the certificate of the authority that signed the server's",
                if ssl == SslMode::VerifyCa { "verify-ca" } else { "verify-full" }
            )));
        }
        config.ssl_mode(ssl.wire());
        config.application_name("keel");
        if let Some(password) = find_password(&config, passwords).map_err(refuse)? {
            config.password(password);
        }
        Ok(ServerUrl { config, ssl, root_cert, shown: text.to_string() })
    }

    /// The first host, as a person would write it (a socket folder or a host name).
    pub fn host(&self) -> String {
        match self.config.get_hosts().first() {
            Some(Host::Tcp(name)) => name.clone(),
            Some(Host::Unix(folder)) => folder.display().to_string(),
            None => self.config.get_hostaddrs().first().map(|a| a.to_string()).unwrap_or_default(),
        }
    }
}

/// The URL with any password in it starred out, so an error never prints it back.
fn masked(text: &str) -> String {
    let (scheme, rest) = text.split_once("://").unwrap_or(("", text));
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((creds, host)) if creds.contains(':') => {
            format!("{}:****@{host}", creds.split(':').next().unwrap_or(""))
        }
        _ => authority.to_string(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let pairs: Vec<String> =
                query.split('&').map(|p| if p.starts_with("password=") { "password=****".to_string() } else { p.to_string() }).collect();
            format!("{path}?{}", pairs.join("&"))
        }
        None => tail.to_string(),
    };
    format!("{scheme}://{authority}{tail}")
}

fn password_hint() -> String {
    "a password in the URL would be readable by others on this host (shell history, ps, crontab). \
     Remove it and put it in ~/.pgpass (mode 0600: host:port:database:user:password) or PGPASSWORD"
        .into()
}

/// `PGPASSWORD`, else the first matching line of the password file, as libpq looks them up.
fn find_password(config: &postgres::Config, sources: &PasswordSources) -> Result<Option<String>, String> {
    if let Some(p) = &sources.password {
        return Ok(Some(p.clone()));
    }
    let file = match (&sources.passfile, &sources.home) {
        (Some(f), _) => f.clone(),
        (None, Some(home)) => home.join(".pgpass"),
        (None, None) => return Ok(None),
    };
    let text = match read_private(&file)? {
        Some(t) => t,
        None => return Ok(None),
    };
    // A socket connection matches `localhost` in the file, as libpq's does.
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(name)) => name.clone(),
        Some(Host::Unix(_)) | None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(DEFAULT_PORT).to_string();
    let wanted = [host.as_str(), port.as_str(), config.get_dbname().unwrap_or(""), config.get_user().unwrap_or("")];
    Ok(text.lines().filter(|l| !l.starts_with('#')).find_map(|line| {
        let fields = passfile_fields(line);
        (fields.len() == 5 && fields[..4].iter().zip(wanted).all(|(f, w)| f == "*" || f == w)).then(|| fields[4].clone())
    }))
}

/// The password file's text, if there is one; an error if others may read it, as libpq refuses.
fn read_private(file: &Path) -> Result<Option<String>, String> {
    use std::os::unix::fs::MetadataExt;
    let meta = match std::fs::metadata(file) {
        Ok(m) if m.is_file() => m,
        _ => return Ok(None),
    };
    if meta.mode() & 0o077 != 0 {
        return Err(format!(
            "{} can be read by others (mode {:o}); keel takes no password from it. Run: chmod 600 {}",
            file.display(),
            meta.mode() & 0o777,
            file.display()
        ));
    }
    std::fs::read_to_string(file).map(Some).map_err(|e| format!("cannot read {}: {e}", file.display()))
}

/// The fields of one password-file line: `:` separates, `\:` and `\\` escape.
fn passfile_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => fields.last_mut().expect("one field at least").extend(chars.next()),
            ':' if fields.len() < 5 => fields.push(String::new()),
            c => fields.last_mut().expect("one field at least").push(c),
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none() -> PasswordSources {
        PasswordSources::default()
    }

    fn server(text: &str) -> ServerUrl {
        match Location::parse(text, "alice", &none()).unwrap() {
            Location::Server(s) => *s,
            Location::File(p) => panic!("{text} read as the file {}", p.display()),
        }
    }

    #[test]
    fn a_path_is_a_file_and_a_url_a_server() {
        assert!(matches!(Location::parse("team.keel", "alice", &none()).unwrap(), Location::File(p) if p == Path::new("team.keel")));
        assert!(matches!(Location::parse("postgres.keel", "alice", &none()).unwrap(), Location::File(_)));
        assert!(is_server_url("postgresql://db/keel") && is_server_url("postgres://db/keel"));
    }

    #[test]
    fn defaults_follow_libpq_socket_port_user_and_database() {
        let s = server("postgresql://");
        assert_eq!(s.host(), DEFAULT_SOCKET_FOLDER);
        assert_eq!(s.config.get_ports(), &[5432]);
        assert_eq!(s.config.get_user(), Some("alice"));
        assert_eq!(s.config.get_dbname(), Some("alice"));
        assert_eq!(s.ssl, SslMode::Prefer);
    }

    #[test]
    fn host_port_database_user_and_socket_folders_are_read() {
        let s = server("postgres://bob@db.example.org:6543/okr?sslmode=verify-full&sslrootcert=/etc/ca.pem");
        assert_eq!((s.host().as_str(), s.config.get_ports()), ("db.example.org", &[6543u16][..]));
        assert_eq!((s.config.get_user(), s.config.get_dbname()), (Some("bob"), Some("okr")));
        assert_eq!((s.ssl, s.root_cert.as_deref()), (SslMode::VerifyFull, Some(Path::new("/etc/ca.pem"))));
        assert_eq!(s.config.get_ssl_mode(), WireSslMode::Require);
        assert_eq!(server("postgresql:///okr?host=/tmp/pg%20sock").host(), "/tmp/pg sock");
        assert_eq!(server("postgresql://%2Fvar%2Frun%2Fpg/okr").host(), "/var/run/pg");
    }

    #[test]
    fn a_password_in_the_url_is_refused_with_the_way_to_give_one() {
        for url in ["postgresql://bob:secret@db/okr", "postgresql://db/okr?password=secret"] {
            let e = Location::parse(url, "alice", &none()).unwrap_err();
            assert!(e.why.contains("~/.pgpass") && e.why.contains("PGPASSWORD"), "{e}");
            assert!(!e.to_string().contains("secret") && e.url.contains("****"), "the error never shows it: {e}");
        }
    }

    #[test]
    fn bad_settings_are_named() {
        let e = Location::parse("postgresql://db/okr?sslmode=maybe", "alice", &none()).unwrap_err();
        assert!(e.why.contains("sslmode 'maybe'"), "{e}");
        let e = Location::parse("postgresql://db/okr?sslmode=verify-full", "alice", &none()).unwrap_err();
        assert!(e.why.contains("sslrootcert"), "{e}");
        let e = Location::parse("postgresql://db/okr?colour=blue", "alice", &none()).unwrap_err();
        assert!(e.why.contains("colour"), "{e}");
    }

    #[test]
    fn passwords_come_from_pgpassword_then_a_private_password_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pgpass");
        std::fs::write(&file, "# comment\nother:5432:okr:bob:wrong\ndb:*:okr:bob:it\\:s\\\\ok\nlocalhost:5432:*:*:socket\n").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let sources = PasswordSources { passfile: Some(file.clone()), ..Default::default() };
        let password = |url: &str, s: &PasswordSources| {
            ServerUrl::parse(url, "alice", s).map(|s| s.config.get_password().map(|p| String::from_utf8_lossy(p).into_owned()))
        };
        assert_eq!(password("postgresql://bob@db:6000/okr", &sources).unwrap().as_deref(), Some("it:s\\ok"));
        assert_eq!(password("postgresql:///okr", &sources).unwrap().as_deref(), Some("socket"), "a socket matches localhost");
        assert_eq!(password("postgresql://bob@elsewhere/okr", &sources).unwrap(), None);
        let env = PasswordSources { password: Some("from-env".into()), ..sources.clone() };
        assert_eq!(password("postgresql://bob@db/okr", &env).unwrap().as_deref(), Some("from-env"));
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = password("postgresql://bob@db/okr", &sources).unwrap_err();
        assert!(e.why.contains("chmod 600"), "{e}");
    }
}
