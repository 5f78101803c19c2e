//! `partner-server keys list|rotate|retire` against a real database file.

use std::process::{Command, Output};

struct Dir(std::path::PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn keys(db_url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_partner-server"))
        .arg("keys")
        .args(args)
        .env_clear()
        .env("PARTNER_DATABASE_URL", db_url)
        .env("PARTNER_LOG", "warn")
        .output()
        .unwrap_or_else(|e| panic!("run partner-server: {e}"))
}

/// `(kid, state)` per line of the listing that ends every command's output.
fn listing(out: &Output) -> Vec<(String, String)> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("key_"))
        .map(|l| {
            let mut cols = l.split('\t');
            (
                cols.next().unwrap_or_default().to_owned(),
                cols.next().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[test]
fn rotate_list_and_retire_from_the_command_line() {
    let dir = Dir(std::env::temp_dir().join(format!("partner-keys-{}", std::process::id())));
    std::fs::create_dir_all(&dir.0).unwrap_or_else(|e| panic!("{e}"));
    let url = format!("sqlite://{}?mode=rwc", dir.0.join("p.db").display());

    let first = keys(&url, &["rotate"]);
    assert!(first.status.success(), "{first:?}");
    let second = keys(&url, &["rotate"]);
    assert!(second.status.success(), "{second:?}");
    let keys_now = listing(&second);
    assert_eq!(keys_now.len(), 2, "{keys_now:?}");
    assert_eq!(keys_now[0].1, "ACTIVE");
    assert_eq!(keys_now[1].1, "VERIFY_ONLY");
    let (active, old) = (keys_now[0].0.clone(), keys_now[1].0.clone());

    let retired = keys(&url, &["retire", &old]);
    assert!(retired.status.success(), "{retired:?}");
    assert_eq!(
        listing(&retired),
        [
            (active.clone(), "ACTIVE".to_owned()),
            (old.clone(), "RETIRED".to_owned())
        ]
    );

    // The active key cannot be retired, nor a retired one again; both fail with a message.
    for kid in [&active, &old] {
        let refused = keys(&url, &["retire", kid]);
        assert_eq!(refused.status.code(), Some(1), "{refused:?}");
        assert!(
            String::from_utf8_lossy(&refused.stderr).contains("signing key is"),
            "{refused:?}"
        );
    }
    assert_eq!(listing(&keys(&url, &["list"])).len(), 2);
}
