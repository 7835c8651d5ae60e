//! A PostgreSQL cluster of the TLS tests' own, started from the binaries `.ci/run` names in
//! `KEEL_TEST_PG_BIN`: listening on 127.0.0.1 at a free port with ssl on, its certificate signed
//! by an authority the test makes, TLS required on TCP (plain TCP is rejected), the cluster's
//! owner trusted and `alice` by scram-sha-256 password. Stopped and removed when dropped.

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use std::path::{Path, PathBuf};
use std::process::Command;

pub(crate) const ALICE_PASSWORD: &str = "a long passphrase for alice";

pub(crate) struct TlsServer {
    dir: tempfile::TempDir,
    bin: PathBuf,
    pub port: u16,
    /// The cluster's owner, trusted over TLS on 127.0.0.1.
    pub owner: String,
    /// The authority that signed the server's certificate (for `localhost` only), and another.
    pub ca: PathBuf,
    pub other_ca: PathBuf,
}

fn as_root() -> bool {
    // SAFETY: getuid has no preconditions.
    unsafe { libc::getuid() == 0 }
}

/// A command run as the cluster's owner: as root that is the `postgres` OS user.
fn owner_command(program: &Path) -> Command {
    if as_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn run(mut c: Command, what: &str) {
    let out = c.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(out.status.success(), "{what}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}

/// A certificate authority: its PEM and an issuer that signs with it.
fn authority(name: &str) -> (String, Issuer<'static, KeyPair>) {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    let key = KeyPair::generate().unwrap();
    let pem = params.self_signed(&key).unwrap().pem();
    (pem, Issuer::new(params, key))
}

impl TlsServer {
    /// The server, or `None` (skipped) without PostgreSQL's binaries; CI insists on them.
    pub(crate) fn start() -> Option<TlsServer> {
        let bin = match std::env::var_os("KEEL_TEST_PG_BIN") {
            Some(b) => PathBuf::from(b),
            None if std::env::var_os("CI").is_some() => panic!("CI runs the TLS tests: run them through .ci/with-postgres"),
            None => {
                eprintln!("skipped: no KEEL_TEST_PG_BIN (run `.ci/with-postgres cargo test` to include the server)");
                return None;
            }
        };
        let dir = tempfile::tempdir().unwrap();
        let owner = if as_root() { "postgres".to_string() } else { crate::store::os_login() };
        let chown = |path: &Path| {
            if as_root() {
                let mut chown = Command::new("chown");
                chown.args(["-R", "postgres:"]).arg(path);
                run(chown, "chown to postgres");
            }
        };
        chown(dir.path());
        let data = dir.path().join("data");
        let mut initdb = owner_command(&bin.join("initdb"));
        initdb.arg("-D").arg(&data).args(["-A", "trust", "-U", &owner, "-E", "UTF8", "--locale=C.UTF-8"]);
        run(initdb, "initdb");

        let (ca_pem, ca) = authority("keel test authority");
        let (other_pem, _) = authority("someone else's authority");
        let server_key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, "localhost");
        let server_cert = params.signed_by(&server_key, &ca).unwrap();
        std::fs::write(data.join("server.crt"), server_cert.pem()).unwrap();
        std::fs::write(data.join("server.key"), server_key.serialize_pem()).unwrap();
        std::fs::write(
            data.join("pg_hba.conf"),
            format!(
                "local all all trust\n\
                 hostssl all alice 127.0.0.1/32 scram-sha-256\n\
                 hostssl all {owner} 127.0.0.1/32 trust\n\
                 hostnossl all all 127.0.0.1/32 reject\n"
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(data.join("server.key"), std::fs::Permissions::from_mode(0o600)).unwrap();
        chown(&data);
        let ca_path = dir.path().join("ca.pem");
        let other_ca = dir.path().join("other-ca.pem");
        std::fs::write(&ca_path, ca_pem).unwrap();
        std::fs::write(&other_ca, other_pem).unwrap();

        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let options = format!(
            "-k {} -c listen_addresses=127.0.0.1 -p {port} -c ssl=on -c ssl_cert_file=server.crt -c ssl_key_file=server.key \
             -c password_encryption=scram-sha-256",
            dir.path().display()
        );
        let mut start = owner_command(&bin.join("pg_ctl"));
        start.arg("-D").arg(&data).args(["-w", "-t", "60", "-l"]).arg(dir.path().join("server.log")).args(["-o", &options, "start"]);
        run(start, "pg_ctl start");
        let server = TlsServer { dir, bin, port, owner, ca: ca_path, other_ca };
        let mut admin = postgres::Config::new()
            .host_path(server.dir.path())
            .port(port)
            .user(&server.owner)
            .dbname("postgres")
            .connect(postgres::NoTls)
            .expect("the TLS test server accepts its owner on its socket");
        admin.batch_execute(&format!("CREATE ROLE alice LOGIN PASSWORD '{ALICE_PASSWORD}'; GRANT pg_read_all_stats TO alice")).unwrap();
        Some(server)
    }

    /// The socket folder, for URLs that connect without TCP.
    pub(crate) fn socket_dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let mut stop = owner_command(&self.bin.join("pg_ctl"));
        stop.arg("-D").arg(self.dir.path().join("data")).args(["-m", "immediate", "stop"]);
        let _ = stop.output();
    }
}
