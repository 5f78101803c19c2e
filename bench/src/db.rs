//! Scratch databases: a new SQLite file under a temporary directory, or a new
//! database on the PostgreSQL server of `--database-url`. Everything is
//! removed at the end.

use std::path::{Path, PathBuf};

use sea_orm::ConnectionTrait;

use crate::BoxError;

/// Where scratch databases come from.
#[derive(Debug)]
pub struct Scratch {
    dir: PathBuf,
    postgres: Option<String>,
    created: Vec<String>,
    counter: usize,
}

impl Scratch {
    /// Scratch databases under a new temporary directory, on SQLite or, with
    /// `postgres` (a URL whose user may create databases), on PostgreSQL.
    pub fn new(postgres: Option<String>) -> Result<Self, BoxError> {
        let dir =
            std::env::temp_dir().join(format!("partner-bench-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir)?;
        Ok(Self {
            dir,
            postgres,
            created: Vec::new(),
            counter: 0,
        })
    }

    /// The temporary directory (server logs and SQLite files).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// "SQLite" or "PostgreSQL".
    pub fn kind(&self) -> &'static str {
        if self.postgres.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    }

    /// The URL of a new, empty database.
    pub async fn fresh(&mut self) -> Result<String, BoxError> {
        self.counter += 1;
        match &self.postgres {
            None => {
                let file = self.dir.join(format!("bench-{}.db", self.counter));
                Ok(format!("sqlite://{}?mode=rwc", file.display()))
            }
            Some(base) => {
                let name = format!("partner_bench_{}", uuid::Uuid::new_v4().simple());
                let admin = sea_orm::Database::connect(base.as_str()).await?;
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await?;
                admin.close().await?;
                self.created.push(name.clone());
                Ok(with_database(base, &name)?)
            }
        }
    }

    /// Drops every database made here and removes the temporary directory.
    /// Call it only after every server has stopped.
    pub async fn remove(self) -> Result<(), BoxError> {
        if let Some(base) = &self.postgres
            && !self.created.is_empty()
        {
            let admin = sea_orm::Database::connect(base.as_str()).await?;
            for name in &self.created {
                admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}"))
                    .await?;
            }
            admin.close().await?;
        }
        std::fs::remove_dir_all(&self.dir)?;
        Ok(())
    }
}

/// `base` with its database name replaced by `name`, keeping any query.
fn with_database(base: &str, name: &str) -> Result<String, BoxError> {
    let (path, query) = match base.split_once('?') {
        Some((path, query)) => (path, format!("?{query}")),
        None => (base, String::new()),
    };
    let (scheme, rest) = path
        .split_once("://")
        .ok_or("--database-url must look like postgres://user@host/database")?;
    let (server, _) = rest
        .rsplit_once('/')
        .ok_or("--database-url must name a database: postgres://user@host/database")?;
    Ok(format!("{scheme}://{server}/{name}{query}"))
}

/// `url` with any password replaced by `***`, for printing.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((user_info, host)) => match user_info.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}
