//! The server's lifecycle: graceful shutdown with calls in flight, data and
//! signing keys surviving a restart, and the one-time operator bootstrap.

use std::time::{Duration, Instant};

use partner_api::accounts::v1 as accounts;
use partner_api::iam::v1 as iam;
use partner_server::config::Secret;
use partner_tests::*;
use sea_orm::{ConnectionTrait, Statement};
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

/// Stops `server` gracefully and starts a new one on the same database, with
/// `tweak` applied to the configuration. Returns the new server and the
/// stopped one: the caller keeps the stopped one until the test ends, because
/// dropping any clone of a `TestDb` deletes the SQLite directory all clones
/// share (which is also why the harness's `restart()` comes back on an empty
/// SQLite database).
async fn restart_with(
    mut server: TestServer,
    tweak: impl FnOnce(&mut partner_server::Config),
) -> (TestServer, TestServer) {
    server.begin_stop();
    server.join().await.unwrap_or_else(|e| panic!("stop: {e}"));
    let next = TestServer::start_on(server.db.clone(), tweak).await;
    (next, server)
}

async fn restart(server: TestServer) -> (TestServer, TestServer) {
    restart_with(server, |_| {}).await
}

#[tokio::test]
async fn graceful_shutdown_finishes_in_flight_calls() {
    const GRACE: Duration = Duration::from_millis(300);
    let db = TestDb::fresh().await;
    // A costly Argon2 makes Login outlast the grace window, so the call is
    // still running when the server stops accepting and starts draining.
    let mut server = TestServer::start_on(db, |config| {
        config.argon2_memory_kib = 65_536;
        config.argon2_iterations = 32;
        config.shutdown_grace_ms = 300;
    })
    .await;

    // How long one login takes here, on the already-open connection.
    let started = Instant::now();
    server.admin_token().await;
    let login_cost = started.elapsed();
    assert!(
        login_cost > GRACE + GRACE / 2,
        "a login takes {login_cost:?}; it must outlast the {GRACE:?} grace window for this test"
    );

    let mut auth = server.auth();
    let in_flight = tokio::spawn(async move {
        let result = auth
            .login(iam::LoginRequest {
                username: "admin".into(),
                password: ADMIN_PASSWORD.into(),
            })
            .await;
        (result, Instant::now())
    });
    // The request only has to reach the server on the open connection, a
    // matter of microseconds next to the password check; even a late arrival
    // would be accepted during the grace window.
    tokio::time::sleep(login_cost / 10).await;
    assert!(!in_flight.is_finished(), "login ended before the stop");
    let stop_at = Instant::now();
    server.begin_stop();

    // During the grace window the open connection still answers, with NOT_SERVING.
    let mut health = HealthClient::new(server.channel.clone());
    let mut not_serving = false;
    for _ in 0..50 {
        let reply = health
            .check(HealthCheckRequest {
                service: String::new(),
            })
            .await
            .unwrap_or_else(|e| panic!("health during the grace window: {e:?}"));
        if reply.get_ref().status == ServingStatus::NotServing as i32 {
            not_serving = true;
            break;
        }
        assert_eq!(reply.get_ref().status, ServingStatus::Serving as i32);
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert!(not_serving, "health never reported NOT_SERVING");
    for service in [
        "partner.iam.v1.AuthService",
        "partner.accounts.v1.PartnerService",
        "partner.accounts.v1.UserService",
    ] {
        let reply = ok(health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await);
        assert_eq!(
            reply.status,
            ServingStatus::NotServing as i32,
            "{service} during the grace window"
        );
    }

    // After the grace window the listener closes and draining begins; the
    // login is still running then.
    let mut draining = false;
    for _ in 0..400 {
        match tokio::net::TcpStream::connect(server.addr).await {
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                draining = true;
                break;
            }
            // A connection caught in the backlog as the listener closes is reset.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
            Err(e) => panic!("connect during shutdown: {e}"),
            Ok(_) => tokio::time::sleep(Duration::from_millis(5)).await,
        }
    }
    assert!(draining, "the listener never closed");
    assert!(
        stop_at.elapsed() >= GRACE,
        "stopped accepting before the grace window ended"
    );
    assert!(
        !in_flight.is_finished(),
        "the login was not in flight when draining began"
    );

    let (login, finished_at) = in_flight
        .await
        .unwrap_or_else(|e| panic!("login task: {e}"));
    let tokens = ok(login)
        .tokens
        .unwrap_or_else(|| panic!("login without tokens"));
    assert!(!tokens.access_token.is_empty());
    assert!(finished_at > stop_at + GRACE);

    server
        .join()
        .await
        .unwrap_or_else(|e| panic!("server ended with {e}"));
    let refused = tokio::net::TcpStream::connect(server.addr).await;
    match refused {
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused, "{e}"),
        Ok(_) => panic!("a stopped server accepted a connection"),
    }
}

#[tokio::test]
async fn data_and_signing_keys_survive_a_restart() {
    let server = TestServer::start_on(TestDb::fresh().await, |_| {}).await;
    let admin = server.admin_token().await;
    let (partner, _) = server.register_partner(&admin, "durable").await;
    let keys_before = ok(server.auth().get_jwks(iam::GetJwksRequest {}).await).keys;

    let (server, _stopped) = restart(server).await;

    // The operator's token from before the restart still verifies: the
    // signing key and the session were persisted, not regenerated.
    let got = ok(server
        .partners(&admin)
        .get_partner(accounts::GetPartnerRequest {
            partner_id: partner.partner_id.clone(),
        })
        .await);
    assert_eq!(got.partner.as_ref(), Some(&partner));
    let listed = ok(server
        .partners(&admin)
        .list_partners(accounts::ListPartnersRequest::default())
        .await);
    assert_eq!(listed.partners, vec![partner.clone()]);

    // The master's password hash survived too.
    let master = server.login("durable", USER_PASSWORD).await;
    let own = ok(server
        .partners(&master)
        .get_partner(accounts::GetPartnerRequest {
            partner_id: partner.partner_id.clone(),
        })
        .await);
    assert_eq!(own.partner.map(|p| p.partner_id), Some(partner.partner_id));

    let keys_after = ok(server.auth().get_jwks(iam::GetJwksRequest {}).await).keys;
    assert_eq!(keys_after, keys_before);
}

/// An operator row: `(id, username, password_hash)`.
type OperatorRow = (String, String, String);

/// The operators (users without a partner) stored in `db`.
async fn operators(db: &TestDb) -> Vec<OperatorRow> {
    let conn = db.connect().await;
    let rows = conn
        .query_all_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT id, username, password_hash FROM users WHERE partner_id IS NULL ORDER BY id",
        ))
        .await
        .unwrap_or_else(|e| panic!("query operators: {e}"));
    let operators = rows
        .iter()
        .map(|row| {
            let get = |column: &str| {
                row.try_get::<String>("", column)
                    .unwrap_or_else(|e| panic!("{column}: {e}"))
            };
            (get("id"), get("username"), get("password_hash"))
        })
        .collect();
    let _ = conn.close().await;
    operators
}

#[tokio::test]
async fn first_start_bootstraps_one_operator_and_restarts_keep_it() {
    let server = TestServer::start_on(TestDb::fresh().await, |_| {}).await;
    let db = server.db.clone();
    let first = operators(&db).await;
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(first[0].1, "admin");
    server.admin_token().await;

    let (server, _first_run) = restart(server).await;
    assert_eq!(operators(&db).await, first);
    server.admin_token().await;

    // A later start with a different bootstrap password changes nothing: the
    // setting only applies to an empty database.
    let (server, _second_run) = restart_with(server, |config| {
        config.bootstrap_password = Some(Secret("another-password-2".into()));
    })
    .await;
    assert_eq!(operators(&db).await, first);
    server.admin_token().await;
    assert_refused(
        server.login_pair("admin", "another-password-2").await,
        Code::Unauthenticated,
        "INVALID_CREDENTIALS",
    );
}
